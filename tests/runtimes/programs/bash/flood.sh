while :; do echo y; done
