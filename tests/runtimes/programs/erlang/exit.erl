-module(main).
-export([main/0]).

main() ->
    io:format("partial~n"),
    halt(3).
