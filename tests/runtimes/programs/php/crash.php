<?php
posix_kill(posix_getpid(), 6); // SIGABRT
sleep(10);
