package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"text/template"
)

// Uses packages that a cold build cache would compile from source first (net/http alone takes seconds).
func main() {
	data, _ := json.Marshal(map[string]int{"status": http.StatusOK})
	_ = template.Must(template.New("t").Parse("{{.}}"))
	fmt.Println(regexp.MustCompile(`\d+`).FindString(string(data)))
}
