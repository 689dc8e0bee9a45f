# Integration-test harness: a stock FreeSWITCH 1.10 with its vanilla sample configuration
# (mod_loopback included) and Go, in one image. The default command starts FreeSWITCH and
# runs ./build.sh integration against it.
#
#   ./build.sh docker
#   docker build -t esl-integration . && docker run --rm esl-integration
#
# FreeSWITCH comes from Alpine's package repository (freeswitch, freeswitch-sample-config),
# so BASE_IMAGE must be an Alpine-based Go image.
ARG BASE_IMAGE=golang:1.26-alpine
FROM ${BASE_IMAGE}

# bash, coreutils and findutils for build.sh; gcc and musl-dev for cgo.
RUN apk add --no-cache bash coreutils findutils gcc musl-dev freeswitch freeswitch-sample-config

# The vanilla configuration with one harness setting: the event socket listens on IPv4
# loopback (vanilla's "::" needs IPv6, which containers often lack). No dialplan edits:
# the tests use inline applications (&park, &socket(...)).
RUN sed -i 's|name="listen-ip" value="::"|name="listen-ip" value="127.0.0.1"|' \
        /etc/freeswitch/autoload_configs/event_socket.conf.xml \
 && grep -q 'value="127.0.0.1"' /etc/freeswitch/autoload_configs/event_socket.conf.xml \
 && grep -q '<load module="mod_loopback"/>' /etc/freeswitch/autoload_configs/modules.conf.xml

WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .

# build.sh integration waits up to ESL_TEST_WAIT seconds for the event socket to open and
# for "api status" to say "is ready" (FreeSWITCH has loaded every module).
# The race detector is left off: it is not supported on every musl toolchain.
ENV ESL_TEST_ADDR=127.0.0.1:8021 ESL_TEST_PASSWORD=ClueCon ESL_TEST_WAIT=120 ESL_TEST_RACE=0
CMD ["sh", "-c", "freeswitch -nc -nf -nonat -nort -np >/tmp/freeswitch.out 2>&1 & exec ./build.sh integration"]
