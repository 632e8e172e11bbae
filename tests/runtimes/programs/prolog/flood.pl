:- initialization(main, main).

main :- repeat, write(y), nl, fail.
