module github.com/goconfd/goconfd

go 1.26.8

require (
	go.uber.org/goleak v1.3.0 // indirect
	golang.org/x/net v0.62.0 // indirect
)
