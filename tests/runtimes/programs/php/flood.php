<?php
while (true) {
    echo "y\n";
}
