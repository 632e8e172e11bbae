let counter = 0;
for (;;) counter++;
