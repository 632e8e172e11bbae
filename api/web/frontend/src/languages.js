// What the editor knows about each language id the API may list: its syntax highlighting and a starter
// program that reads stdin and prints something. An id the page does not know gets plain text and an
// empty starter: the list itself always comes from GET /api/v1/languages. Each grammar is a chunk of its
// own, loaded when its language is first picked.

const STARTERS = {
  python: `name = input()
print(f"Hello, {name}!")
`,
  c: `#include <stdio.h>

int main(void) {
    char name[256];
    if (scanf("%255s", name) == 1) {
        printf("Hello, %s!\\n", name);
    }
    return 0;
}
`,
  cpp: `#include <iostream>
#include <string>

int main() {
    std::string name;
    std::cin >> name;
    std::cout << "Hello, " << name << "!\\n";
}
`,
  java: `import java.util.Scanner;

public class Main {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        String name = in.next();
        System.out.println("Hello, " + name + "!");
    }
}
`,
  javascript: `const name = require("fs").readFileSync(0, "utf8").trim();
console.log(\`Hello, \${name}!\`);
`,
  go: `package main

import "fmt"

func main() {
	var name string
	fmt.Scan(&name)
	fmt.Printf("Hello, %s!\\n", name)
}
`,
  rust: `use std::io::read_to_string;

fn main() {
    let input = read_to_string(std::io::stdin()).unwrap();
    println!("Hello, {}!", input.trim());
}
`,
};

const HIGHLIGHTERS = {
  python: () => import("@codemirror/lang-python").then((m) => m.python()),
  c: () => import("@codemirror/lang-cpp").then((m) => m.cpp()),
  cpp: () => import("@codemirror/lang-cpp").then((m) => m.cpp()),
  java: () => import("@codemirror/lang-java").then((m) => m.java()),
  javascript: () => import("@codemirror/lang-javascript").then((m) => m.javascript()),
  typescript: () => import("@codemirror/lang-javascript").then((m) => m.javascript({ typescript: true })),
  go: () => import("@codemirror/lang-go").then((m) => m.go()),
  rust: () => import("@codemirror/lang-rust").then((m) => m.rust()),
};

/** The CodeMirror extension that highlights `id` (an empty one, plain text, for an unknown id). */
export async function highlighting(id) {
  const load = HIGHLIGHTERS[id];
  return load ? load() : [];
}

/** A small program in `id` that reads a name from stdin and greets it. */
export function starterProgram(id) {
  return STARTERS[id] ?? "";
}
