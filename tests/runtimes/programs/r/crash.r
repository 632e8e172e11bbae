tools::pskill(Sys.getpid(), tools::SIGABRT)
Sys.sleep(10)
