package old

func Name() string { return "fork of old" }
