#!/usr/bin/env bash
# hub_cli.sh - firelane-hub's configuration and administration commands,
# no broker needed: FILE:LINE errors for unknown keys and bad values,
# --check-config, --sample-config (loads, dumps as itself), --add-user (password on stdin, bad role refused, a
# property manager's sites kept, the password hashed), --enrol-device
# (a bad key refused; re-enrolment replaces the site), usage errors.
# Env: FL_BUILD_DIR; FL_SOURCE_DIR (the committed sample is compared).
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" sqlite3
cd "$WORK"

# bad: file contents, expected message
bad() {
	printf '%b' "$1" >bad.yaml
	if "$HUB" --config bad.yaml --check-config >out.txt 2>err.txt; then
		fail "accepted: $1"
	fi
	grep -qF -- "$2" err.txt || fail "for $1 expected '$2', got: $(cat err.txt)"
}
BASE='mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\n'
bad 'mqtt: {host: h, bogus: 1}\n' "bad.yaml:1: unknown key 'bogus' in mqtt"
bad "${BASE}colour: red\n" "bad.yaml:4: unknown key 'colour' in top level"
bad "${BASE}alerts:\n  retry_max: 0\n" 'bad.yaml:5: retry_max: 0 is out of range 1..100'
bad "${BASE}alerts:\n  retry_base_s: soon\n" "bad.yaml:5: retry_base_s: expected a number, got 'soon'"
bad "${BASE}alerts:\n  mqtt: maybe\n" "bad.yaml:5: mqtt: expected a boolean (true, false, yes, no), got 'maybe'"
bad 'mqtt: {host: h, port: 70000}\nstore: {sqlite: db}\nevidence_dir: ev\n' 'bad.yaml:1: port: 70000 is out of range 1..65535'
bad "${BASE}alerts:\n  sites:\n    - site: a\n      webhooks:\n        - {url: \"ftp://x\"}\n" 'bad.yaml:8: webhook: url must start with http:// or https://'
bad "${BASE}alerts:\n  sites:\n    - site: a\n      webhooks:\n        - {url: \"http://x\", format: telex}\n" "webhook: format 'telex' is not generic, wecom or dingtalk"
bad "${BASE}alerts:\n  sites:\n    - site: a\n    - site: a\n" "bad.yaml:7: duplicate site id 'a'"
bad "${BASE}alerts:\n  sites:\n    - webhooks: []\n" "bad.yaml:6: missing required key 'site' in site"
bad 'store: {sqlite: db}\nevidence_dir: ev\n' 'mqtt.host is required'
bad 'mqtt: {host: h, shared_group: "a/b"}\nstore: {sqlite: db}\nevidence_dir: ev\n' 'mqtt.shared_group'
bad "${BASE}http: {listen: 8080}\n" 'http.listen: expected ADDR:PORT'
bad 'mqtt: {host: h, tls_cert: c.pem}\nstore: {sqlite: db}\nevidence_dir: ev\n' 'mqtt.tls_cert/tls_key need mqtt.tls_ca'
bad 'mqtt: {host: h\n' 'bad.yaml:'
"$HUB" --config missing.yaml --check-config 2>err.txt && fail "missing file accepted"
grep -q 'missing.yaml' err.txt || fail "missing file not named"

cat >hub.yaml <<EOC
mqtt: {host: 127.0.0.1, port: 1883, client_id: hub-a, shared_group: workers}
http: {listen: "0.0.0.0:9090"}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/ev
alerts:
  escalate_s: 60
  sites:
    - site: s1
      webhooks:
        - {url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", format: wecom}
EOC
"$HUB" --config hub.yaml --check-config >out.txt || fail "--check-config"
grep -q 'shared_group: "workers"' out.txt || fail "shared_group not shown"
grep -q 'listen: "0.0.0.0:9090"' out.txt || fail "http.listen not kept"
printf 'mqtt: {host: h, tls_ca: ca.pem}\nstore: {sqlite: db}\nevidence_dir: ev\n' >tls.yaml
"$HUB" --config tls.yaml --check-config | grep -q 'port: 8883' || fail "TLS default port"

# --sample-config: the committed sample, every key with its help; it loads,
# and its effective configuration is the sample without the comments; that
# dump loads again as the same configuration
"$HUB" --sample-config >sample.yaml || fail "--sample-config"
if [ -n "${FL_SOURCE_DIR:-}" ]; then
	cmp -s sample.yaml "$FL_SOURCE_DIR/docs/firelane-hub.sample.yaml" ||
		fail "--sample-config differs from docs/firelane-hub.sample.yaml"
fi
grep -q '^  port: 1883  # broker port' sample.yaml || fail "sample without help: $(head -5 sample.yaml)"
"$HUB" --config sample.yaml --check-config >dump1.yaml 2>err.txt || fail "the sample does not load: $(cat err.txt)"
grep -v '^#' sample.yaml | sed 's/  # .*$//' >bare.yaml
tail -n +2 dump1.yaml | cmp -s - bare.yaml || fail "the sample's dump differs from the sample: $(tail -n +2 dump1.yaml | diff - bare.yaml)"
"$HUB" --config dump1.yaml --check-config >dump2.yaml 2>err.txt || fail "the dump does not load: $(cat err.txt)"
diff <(tail -n +2 dump1.yaml) <(tail -n +2 dump2.yaml) >/dev/null || fail "dump, load, dump is not the same"
sed 's/^  retry_max: 8/  retry_max: 0/' sample.yaml >bad.yaml
"$HUB" --config bad.yaml --check-config 2>err.txt && fail "retry_max 0 accepted"
line=$(grep -n '^  retry_max:' bad.yaml | cut -d: -f1)
grep -qF "bad.yaml:$line: retry_max: 0 is out of range 1..100" err.txt || fail "sample error: $(cat err.txt)"

"$HUB" --config hub.yaml --add-user alice 2>/dev/null && fail "--add-user without --role accepted"
echo 'x' | "$HUB" --config hub.yaml --add-user bob --role king 2>err.txt && fail "role king accepted"
"$HUB" --config hub.yaml --add-user carol --role admin </dev/null 2>err.txt && fail "no password accepted"
echo 's3cret pass' | "$HUB" --config hub.yaml --add-user alice --role property --sites s1,s2 >out.txt || fail "--add-user"
echo 's3cret' | "$HUB" --config hub.yaml --add-user alice --role admin 2>err.txt && fail "a second alice accepted"
[ "$(sqlite3 hub.db "select role || '|' || sites from users where name = 'alice'")" = 'property|s1,s2' ] || fail "user row"
sqlite3 hub.db "select hash from users" | grep -q '^\$argon2id\$' || fail "password not argon2id"
sqlite3 hub.db "select hash from users" | grep -q 's3cret' && fail "password stored in clear"

echo 'not a key' >bad.pk
"$HUB" --config hub.yaml --enrol-device dev-1 --site s1 --public-key bad.pk 2>err.txt && fail "bad key accepted"
"$HUB" --config hub.yaml --enrol-device dev-1 --site s1 --public-key none.pk 2>err.txt && fail "missing key file accepted"
echo 'O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=' >good.pk
"$HUB" --config hub.yaml --enrol-device dev-1 --site s1 --public-key good.pk >out.txt || fail "--enrol-device"
"$HUB" --config hub.yaml --enrol-device dev-1 --site s2 --public-key good.pk >out.txt || fail "re-enrol"
[ "$(sqlite3 hub.db "select site from devices where device = 'dev-1'")" = s2 ] || fail "re-enrolment did not replace the site"
"$HUB" --config hub.yaml --enrol-device 'dev/1' --site s1 --public-key good.pk 2>err.txt && fail "bad device id accepted"
"$HUB" --config hub.yaml --enrol-device dev-2 --public-key good.pk 2>/dev/null && fail "--enrol-device without --site accepted"
[ "$(sqlite3 hub.db "select count(*) from audit where user = 'cli'")" -ge 3 ] || fail "admin commands not audited"
"$HUB" 2>/dev/null && fail "no --config accepted"
echo "$NAME: ok"
