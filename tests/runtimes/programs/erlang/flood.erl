-module(main).
-export([main/0]).

main() ->
    io:put_chars("y\n"),
    main().
