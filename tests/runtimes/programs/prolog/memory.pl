:- initialization(main, main).

% Touches 600 MiB, one MiB at a time.
main :-
    numlist(1, 600, Ns),
    maplist([_, S]>>format(string(S), "~*c", [1048576, 0'x]), Ns, Blocks),
    length(Blocks, N),
    format("survived ~w~n", [N]).
