:- initialization(main, main).

% 30 million list cells of three words each: 720 MiB on the global stack.
main :-
    length(Cells, 30000000),
    length(Cells, N),
    format("survived ~w~n", [N]).
