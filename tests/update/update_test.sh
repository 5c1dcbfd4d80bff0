#!/usr/bin/env bash
# Zero-loss update under a steady stream: source (node a) -> relay -> sink
# (node c) at ~1,000 events/s while `aex update` replaces the relay three
# times: in place on b, moved to c, moved back to b, each from changed sources.
# Every sequence number must arrive exactly once and in order, the relay's
# state must survive each update, and every connection touching it must be
# re-keyed (the third version also renumbers the relay's endpoints). Prints
# the switchover pauses (the update's own measure and the
# longest silence the sink saw) for docs/update.md.
# usage: update_test.sh AEX_BIN
source "$(dirname "$0")/../deployer/lib.sh"
setup_example "$1" "$(dirname "$0")/app"

u64s() {  # hex -> space-separated u64 values
  python3 -c 'import sys; h=sys.argv[1]; print(" ".join(str(int(h[i:i+16],16)) for i in range(0,len(h),16)))' "$1"
}
call_hex() {  # module entry [hex arg]
  "$AEX" call "$D" --module "$1" --entry "$2" ${3:+--arg "$3"} --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["hex"])'
}
relay_count() {  # -> forwarded version restored_from
  u64s "$("$AEX" request "$D" --connection operator-count --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["hex"])')"
}

"$AEX" nodes start "$D" -q
"$AEX" up "$D" -q
# Refused before anything happens: an unknown node, an unknown module.
"$AEX" update "$D" --module relay --node nowhere -q 2>/dev/null && fail "update to an unknown node"
"$AEX" update "$D" --module nothing -q 2>/dev/null && fail "update of an unknown module"
call_hex source start 0000000a >/dev/null   # 10 events per 10 ms tick
T0=$(date +%s.%N)
sink_received() { u64s "$(call_hex sink stats)" | cut -d' ' -f1; }
# Polls (60 s at most) until the sink has received at least $1 events.
wait_received() {  # minimum
  local end=$((SECONDS + 60))
  until [ "$(sink_received)" -ge "$1" ]; do
    [ "$SECONDS" -lt "$end" ] || fail "the sink did not reach $1 events: $(sink_received)"
    sleep 0.1
  done
}
wait_received 2000  # the stream is running (with 3 x 1000 below: >= 5,000 events)

update() {  # version [node]
  sed -i "s/^#define RELAY_VERSION .*/#define RELAY_VERSION $1/" "$DIR/relay.c"
  if [ "$1" = 3 ]; then
    # New endpoints ahead of the used ones: their indexes shift, the
    # connections follow them by name.
    sed -i -e 's/^SM_OUTPUT(out);/SM_OUTPUT(audit);\nSM_OUTPUT(out);/' \
      -e 's/^SM_INPUT(in, data, len) {/SM_INPUT(config, data, len) { (void)data, (void)len; }\nSM_INPUT(in, data, len) {/' \
      "$DIR/relay.c"
  fi
  # Baseline: the longest silence at the sink over a second without update.
  call_hex sink reset_gap >/dev/null
  sleep 1  # a measurement window (the baseline), not a wait for an event
  local base_us
  base_us=$(u64s "$(call_hex sink stats)" | cut -d' ' -f5)
  call_hex sink reset_gap >/dev/null
  local out
  out=$("$AEX" update "$D" --module relay ${2:+--node "$2"} --json)
  # A thousand more events through the new instance (about a second).
  wait_received $(($(sink_received) + 1000))
  read -r received last missing dups gap_us <<<"$(u64s "$(call_hex sink stats)")"
  python3 - "$out" "$gap_us" "$received" "$base_us" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] and not r["warnings"], r
print(f'PAUSE {r["from"]["node"]}->{r["to"]["node"]}: update {r["seconds"]["pause"]*1000:.1f} ms '
      f'(prepare {r["seconds"]["prepare"]:.2f} s, re-key {r["seconds"]["rekey"]*1000:.0f} ms, '
      f'total {r["seconds"]["total"]:.2f} s, state {r["state_bytes"]} B, '
      f'{r["routes_paused"]} route(s), {r["fences"]} fence(s)); '
      f'longest silence at the sink {int(sys.argv[2])/1000:.1f} ms '
      f'(over a second without update: {int(sys.argv[4])/1000:.1f} ms); {sys.argv[3]} events so far')
assert r["connections_rekeyed"] == 3, r
PY
  [ "$missing" = 0 ] || fail "events missing after update to v$1"
  [ "$dups" = 0 ] || fail "events duplicated or reordered after update to v$1"
  read -r forwarded version restored <<<"$(relay_count)"
  expect_eq "$version" "$1" "relay version after update"
  expect_eq "$restored" "$(($1 - 1))" "state restored from the previous version"
  [ "$forwarded" -ge "$received" ] || fail "relay count $forwarded < sink count $received"
}
update 2        # in place on b
update 3 c      # move to c (the sink's node)
update 4 b      # and back to b

call_hex source stop >/dev/null
T1=$(date +%s.%N)
read -r sent errors <<<"$(u64s "$(call_hex source stats)")"
wait_for_output "$sent" bash -c "'$AEX' call '$D' --module sink --entry stats --json |
  python3 -c 'import json,sys; print(int(json.load(sys.stdin)[\"hex\"][:16],16))'"
read -r received last missing dups gap_us <<<"$(u64s "$(call_hex sink stats)")"
read -r forwarded version restored <<<"$(relay_count)"
echo "sent $sent, received $received, last $last, missing $missing, dup/reordered $dups," \
     "relay forwarded $forwarded (v$version);" \
     "$(python3 -c "print(f'{$sent / ($T1 - $T0):.0f}')") events/s on average"
[ "$sent" -ge 5000 ] || fail "stream too slow: only $sent events"
expect_eq "$received" "$sent" "events received"
expect_eq "$last" "$sent" "last sequence number"
expect_eq "$missing" "0" "missing events"
expect_eq "$dups" "0" "duplicated or reordered events"
expect_eq "$forwarded" "$sent" "relay count carried across three instances"
# No rejections anywhere: the re-keying lost nothing either.
"$AEX" status "$D" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
for m in r["modules"]:
    s = m.get("stats", {})
    bad = {k: s.get(k, 0) for k in ("rejected_auth", "rejected_replay", "rejected_routing")}
    assert not any(bad.values()), (m["name"], bad)
    assert m["state"] == "running", m
relay = [m for m in r["modules"] if m["name"] == "relay"][0]
assert relay["node"] == "b", relay
for n in r["nodes"]:
    assert n["status"]["counters"]["events_undeliverable"] == 0, n
    assert len([m for m in n["status"]["modules"] if m["name"] == "relay"]) <= 1, n
'
"$AEX" down "$D" -q
"$AEX" nodes stop "$D" -q
expect_no_processes_under "$DIR"
echo "PASS: zero-loss update (in place and moves)"
