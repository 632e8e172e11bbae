:- initialization(main, main).

main :-
    read_line_to_string(user_input, Line),
    split_string(Line, " ", " ", [A, B]),
    number_string(X, A),
    number_string(Y, B),
    Z is X + Y,
    format("~w~n", [Z]).
