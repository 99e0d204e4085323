module example.com/hello

go 1.19

require (
	example.com/greet v1.2.3
	example.com/localdep v1.0.0
	example.com/old v1.0.0
)

// a local directory: no download, the binary records "=> ../localdep (devel)"
replace example.com/localdep => ../localdep

// a fork served by the test's file:// module proxy under another path
replace example.com/old v1.0.0 => example.com/fork v0.9.1
