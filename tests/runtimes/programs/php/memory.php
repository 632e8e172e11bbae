<?php
// Touches 600 MiB, one MiB at a time.
$blocks = [];
for ($i = 0; $i < 600; $i++) {
    $blocks[] = str_repeat(chr($i % 256), 1 << 20);
}
echo "survived\n";
