module github.com/cgoesl/esl

go 1.26
