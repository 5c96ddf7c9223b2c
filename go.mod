module github.com/goconfd/goconfd

go 1.26.8
