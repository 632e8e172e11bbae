# Doubles a string until it would be 1 GiB (the copies make it fast).
blocks=y
for ((i = 0; i < 30; i++)); do
    blocks=$blocks$blocks
done
echo survived
