// Package test holds the integration tests of esl. They are behind the build tag
// integration and talk to a FreeSWITCH (or to fakefs) named by the environment:
//
//	ESL_TEST_ADDR=127.0.0.1:8021 ESL_TEST_PASSWORD=ClueCon go test -tags integration ./test/...
//
// ./build.sh integration starts fakefs when ESL_TEST_ADDR is not set. See the README for
// the other variables (ESL_TEST_USER, ESL_TEST_USER_PASSWORD, ESL_TEST_OUTBOUND_HOST).
package test
