# tools exports no SIGABRT constant: signal 6 by number.
tools::pskill(Sys.getpid(), 6L)
Sys.sleep(10)
