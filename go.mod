module github.com/ferryid/ferry

go 1.26
