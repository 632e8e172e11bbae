-module(main).
-export([main/0]).

main() ->
    undeclared_variable + 1 + X.
