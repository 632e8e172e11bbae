-module(main).
-export([main/0]).

main() ->
    os:cmd("kill -ABRT " ++ os:getpid()),
    timer:sleep(10000).
