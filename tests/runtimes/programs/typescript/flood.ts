const line: string = "y\n".repeat(1024);
for (;;) require("fs").writeSync(1, line);
