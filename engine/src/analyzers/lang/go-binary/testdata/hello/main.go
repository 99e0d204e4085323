package main

import (
	"fmt"

	"example.com/greet"
	"example.com/localdep"
	"example.com/old"
)

var version = "dev"

func main() {
	fmt.Println(greet.Greet(), localdep.Name(), old.Name(), version)
}
