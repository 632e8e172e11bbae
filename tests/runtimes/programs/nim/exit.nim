echo "partial"
quit(3)
