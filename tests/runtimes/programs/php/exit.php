<?php
echo "partial\n";
exit(3);
