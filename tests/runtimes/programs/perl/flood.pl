print "y\n" while 1;
