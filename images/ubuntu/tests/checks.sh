# shellcheck shell=bash
# What the image must hold, as checks shared by the installers (each install-/configure- script ends with
# `check <name>`) and by validate.sh once the image is complete, plus the version probes the software
# report uses. Sourced through lib.sh, which provides log, die and the toolset reads.

# check NAME: run check_<name> (dashes become underscores); aborts with the reason on failure.
check() {
    local fn=check_${1//-/_}
    declare -F "$fn" >/dev/null || die "no check named $1"
    "$fn"
    log "check passed: $1"
}

expect_version() {
    [[ $2 == "$3" ]] || die "$1 reports version '$2', the toolset pins '$3'"
}

# Installed versions, as each tool reports itself.
version_docker() { docker version --format '{{.Server.Version}}'; }
version_azure_cli() { az version --output json | jq -r '."azure-cli"'; }
version_packer() { packer version | grep -oE 'v[0-9]+\.[0-9]+\.[0-9]+' | sed -n '1s/^v//p'; }
version_kubectl() { "$IMAGE_BIN_DIR/kubectl" version --client --output=json | jq -r .clientVersion.gitVersion | sed 's/^v//'; }
version_kubelogin() { "$IMAGE_BIN_DIR/kubelogin" --version | grep -oE 'v[0-9]+\.[0-9]+\.[0-9]+' | sed -n '1s/^v//p'; }
version_helm() { "$IMAGE_BIN_DIR/helm" version --template '{{.Version}}' | sed 's/^v//'; }
version_azure_pipelines_agent() { "$AGENT_DIR/bin/Agent.Listener" --version; }

# check_apt_pins TOOL: every package of TOOL is installed at its pinned version and held there.
check_apt_pins() {
    local pin name want have
    while IFS= read -r pin; do
        name=${pin%%=*}
        want=${pin#*=}
        have=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null) || have="(not installed)"
        [[ $have == "$want" ]] || die "$1: package $name is $have, the toolset pins $want"
        apt-mark showhold "$name" | grep -qx "$name" || die "$1: package $name is not held at its pin"
    done < <(apt_pins "$1")
}

# pinned_upstream TOOL PACKAGE: the upstream version a package pin stands for (0.37.1-1~... -> 0.37.1).
pinned_upstream() {
    upstream_version "$(expand "$(toolset_get tools "$1" packages "$2")" "$1")"
}

# docker_smoke_test: run a container without any registry: its root file system is the host's own
# /bin/echo and the libraries it links, imported as a throwaway image.
docker_smoke_test() {
    local root image=agent-image-selftest:local out
    root=$(mktemp -d)
    # shellcheck disable=SC2046 # one path per word
    cp --parents -L /bin/echo $(ldd /bin/echo | grep -oE '/[^ ]+') "$root"
    tar -C "$root" -c . | docker import - "$image" >/dev/null
    rm -rf "$root"
    out=$(docker run --rm --network none "$image" /bin/echo selftest-ok)
    docker image rm "$image" >/dev/null
    [[ $out == selftest-ok ]] || die "docker run printed '$out' instead of selftest-ok"
}

check_docker() {
    check_apt_pins docker
    expect_version docker "$(version_docker)" "$(tool_version docker)"
    expect_version "docker buildx" "$(docker buildx version | awk '{ sub(/^v/, "", $2); print $2 }')" \
        "$(pinned_upstream docker docker-buildx-plugin)"
    expect_version "docker compose" "$(docker compose version --short | sed 's/^v//')" \
        "$(pinned_upstream docker docker-compose-plugin)"
    getent group docker >/dev/null || die "group docker is missing: the agent user could not use docker"
    docker_smoke_test
}

check_azure_cli() {
    check_apt_pins azure-cli
    expect_version az "$(version_azure_cli)" "$(tool_version azure-cli)"
}

check_packer() {
    check_apt_pins packer
    expect_version packer "$(version_packer)" "$(tool_version packer)"
}

check_kubectl() {
    expect_version kubectl "$(version_kubectl)" "$(tool_version kubectl)"
}

check_kubelogin() {
    expect_version kubelogin "$(version_kubelogin)" "$(tool_version kubelogin)"
}

check_helm() {
    expect_version helm "$(version_helm)" "$(tool_version helm)"
}

# agent_leftovers: what must never be in the image's /agent. With .agent the scale-set extension reports
# success without configuring the agent, so the VM never comes online; credentials or .runner would be
# another machine's registration; a vsts-agent tarball would sit next to the one the extension downloads
# there (its enable script unpacks and deletes "the" tarball it finds).
agent_leftovers() {
    local name
    for name in .agent .credentials .credentials_rsaparams .runner; do
        if [[ -e $AGENT_DIR/$name ]]; then
            printf '%s\n' "$name"
        fi
    done
    find "$AGENT_DIR" -maxdepth 1 -name 'vsts-agent*.tar.gz' -printf '%f\n'
}

# APT_OFFLINE: apt configuration that sends every download to a closed local port (9, discard), so apt
# can install nothing it would have to fetch.
APT_OFFLINE='Acquire::http::Proxy "http://127.0.0.1:9/";
Acquire::https::Proxy "http://127.0.0.1:9/";
Acquire::Retries "0";'

# agent_dependencies_offline: run the agent's installdependencies.sh the way the extension's enable
# script does at every boot, with apt unable to download: it succeeds only if everything it installs is
# already in the image.
agent_dependencies_offline() {
    local conf rc=0 out
    conf=$(mktemp)
    printf '%s\n' "$APT_OFFLINE" >"$conf"
    out=$(APT_CONFIG=$conf "$AGENT_DIR/bin/installdependencies.sh" 2>&1) || rc=$?
    rm -f "$conf"
    if [[ $rc -ne 0 ]]; then
        printf '%s\n' "$out" | tail -n 20 >&2
        die "$AGENT_DIR/bin/installdependencies.sh failed (exit $rc) with apt unable to download: the image lacks a package the agent installs at boot"
    fi
}

check_azure_pipelines_agent() {
    local found
    [[ -x $AGENT_DIR/bin/Agent.Listener ]] || die "$AGENT_DIR/bin/Agent.Listener is missing"
    expect_version "Azure Pipelines agent" "$(version_azure_pipelines_agent)" \
        "$(tool_version azure-pipelines-agent)"
    found=$(agent_leftovers)
    [[ -z $found ]] || die "$AGENT_DIR holds ${found//$'\n'/, }: the image must carry an unpacked, unconfigured agent only"
    agent_dependencies_offline
}

# image_id REFERENCE: the local image id of a reference, empty when it is not present.
image_id() {
    docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true
}

# check_container_images: every image the toolset lists is present by its digest, and its tag (if any)
# names that same image.
check_container_images() {
    local name tag digest id missing=()
    while IFS=$'\t' read -r name digest tag; do
        id=$(image_id "$name@$digest")
        if [[ -z $id ]]; then
            missing+=("$name@$digest")
        elif [[ -n $tag && $(image_id "$name:$tag") != "$id" ]]; then
            missing+=("$name:$tag (as $digest)")
        fi
    done < <(container_images)
    [[ ${#missing[@]} -eq 0 ]] || die "container images not in the image: ${missing[*]}"
}

check_ubuntu_packages() {
    local name missing=()
    while IFS= read -r name; do
        [[ $(dpkg-query -W -f='${Status}' "$name" 2>/dev/null) == "install ok installed" ]] || missing+=("$name")
    done < <(toolset_get ubuntu_packages packages)
    [[ ${#missing[@]} -eq 0 ]] || die "Ubuntu packages not installed: ${missing[*]}"
}

check_apt_config() {
    local unit state
    if dpkg-query -W -f='${Status}' unattended-upgrades 2>/dev/null | grep -q 'ok installed'; then
        die "unattended-upgrades is installed: it would upgrade and reboot agents while they run jobs"
    fi
    apt-config dump | grep -qx 'APT::Periodic::Unattended-Upgrade "0";' \
        || die "APT::Periodic::Unattended-Upgrade is not 0"
    apt-config dump | grep -qx 'Unattended-Upgrade::Automatic-Reboot "false";' \
        || die "Unattended-Upgrade::Automatic-Reboot is not false"
    for unit in apt-daily.timer apt-daily-upgrade.timer; do
        state=$(systemctl is-enabled "$unit" 2>/dev/null) || true
        [[ $state == masked ]] || die "$unit is '$state', not masked"
    done
}

check_ssh() {
    local config setting
    config=$(sshd -T -C user=root,host=localhost,addr=127.0.0.1 2>&1) || die "sshd -T failed: $config"
    for setting in 'passwordauthentication no' 'kbdinteractiveauthentication no' \
        'permitemptypasswords no' 'permitrootlogin no'; do
        grep -qx "$setting" <<<"$config" || die "sshd does not have '$setting'"
    done
}

# check_system: the live kernel settings equal the image's sysctl file, systemd's default open-file
# limit is raised, and the docker group exists for the agent user.
check_system() {
    local key want have
    while IFS='=' read -r key want; do
        key=${key// /}
        want=${want// /}
        [[ -z $key || $key == \#* ]] && continue
        have=$(sysctl -n "$key")
        [[ $have == "$want" ]] || die "sysctl $key is $have, the image sets $want"
    done </etc/sysctl.d/60-agent-image.conf
    have=$(systemctl show --property=DefaultLimitNOFILESoft --value)
    [[ $have -ge 65536 ]] || die "systemd DefaultLimitNOFILESoft is $have, expected at least 65536"
    getent group docker >/dev/null || die "group docker is missing"
}
