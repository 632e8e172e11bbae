while true:
  echo "y"
