:- initialization(main, main).

% 15 million list cells of three words each: 360 MiB on the global stack (under its 1 GiB limit).
main :-
    length(Cells, 15000000),
    length(Cells, N),
    format("survived ~w~n", [N]).
