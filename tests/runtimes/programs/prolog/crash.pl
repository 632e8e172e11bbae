:- initialization(main, main).

main :-
    shell('kill -ABRT $PPID'),
    sleep(10).
