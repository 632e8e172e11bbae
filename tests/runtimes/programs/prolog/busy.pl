:- initialization(main, main).

main :- loop(0).

loop(N) :- M is N + 1, loop(M).
