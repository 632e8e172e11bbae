package main

import "fmt"

// Touches 600 MiB, one MiB at a time.
func main() {
	blocks := make([][]byte, 0, 600)
	for i := 0; i < 600; i++ {
		block := make([]byte, 1<<20)
		for j := range block {
			block[j] = byte(i)
		}
		blocks = append(blocks, block)
	}
	fmt.Println("survived", len(blocks))
}
