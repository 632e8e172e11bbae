package main

import "runtime/debug"

// With the "crash" traceback level a panic ends the process with SIGABRT instead of exit status 2.
func main() {
	debug.SetTraceback("crash")
	panic("nobody recovers this")
}
