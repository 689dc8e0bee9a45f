module github.com/cgoesl/esl

go 1.26

require (
	github.com/chzyer/readline v1.5.1
	github.com/mattn/go-pointer v0.0.1
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.0.0-20220310020820-b874c991c1a5 // indirect
)
