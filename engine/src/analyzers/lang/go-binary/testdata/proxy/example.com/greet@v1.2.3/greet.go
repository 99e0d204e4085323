package greet

func Greet() string { return "hello" }
