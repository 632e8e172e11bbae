# Touches 600 MiB, one MiB at a time.
my @blocks = map { chr($_ % 256) x (1 << 20) } 0 .. 599;
print "survived\n";
