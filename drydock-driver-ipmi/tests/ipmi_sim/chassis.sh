#!/bin/sh
# ipmi_sim's chassis_control program for drydock's IPMI tests. ipmi_sim runs it as
#   chassis.sh <mc> get <key>...          -> prints "<key>:<value>" per key
#   chassis.sh <mc> set <key> <value>...  -> stores each value
#   chassis.sh <mc> check                 -> the program is usable
# The machine's state is one file per key in chassis-state/ beside this script (power: 0 or 1,
# boot: the boot device); every call is appended to chassis-state/log.
state="$(dirname "$0")/chassis-state"
mkdir -p "$state"
echo "$(date +%s.%N) $*" >>"$state/log"
shift # the management controller's address
command="$1"
shift
if [ "$command" = get ]; then
    for key in "$@"; do
        case "$key" in
        power) echo "power:$(cat "$state/power" 2>/dev/null || echo 0)" ;;
        boot) echo "boot:$(cat "$state/boot" 2>/dev/null || echo default)" ;;
        *) echo "$key:0" ;;
        esac
    done
elif [ "$command" = set ]; then
    while [ "$#" -ge 2 ]; do
        echo "$2" >"$state/$1"
        shift 2
    done
elif [ "$command" != check ]; then
    exit 1
fi
exit 0
