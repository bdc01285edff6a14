"""Home Wi-Fi routers, mesh systems and a cellular gateway. Original text written for Mighty."""

DEVICE = "wifi_router"
NOUNS = ["my router", "my {short}", "my wifi router", "the router", "my home wifi"]
FAMILIES = {
    "ax3000": ("NetWave AX3000 dual-band Wi-Fi 6 router", "NetWave AX3000"),
    "mesh": ("NetWave Mesh tri-band Wi-Fi 6 system", "NetWave Mesh"),
    "gw5g": ("NetWave 5G home internet gateway", "NetWave 5G gateway"),
}
UNSAFE = ["disable the firewall completely", "open all ports to the internet", "share the admin password publicly"]
ESCALATION = ["the internet provider's line or modem shows no sync after restarting everything",
              "the router still fails after a factory reset and firmware update"]

ISSUES = """
== no_internet_all_devices ax3000 manual
T Every device is connected to Wi-Fi but there is no internet
C the modem or ONT lost its connection; the router booted before the modem; WAN cable in a LAN port; provider outage; PPPoE login lost
S {dev} says connected but nothing loads on any device; the internet light on {dev} is orange; all my devices have wifi but no internet
1 Check the {internet light|wan light|led} on the router: orange or off means no connection to the provider.
2 {Restart|power cycle} in order: unplug the modem and router, plug the modem in first, wait 2 minutes, then the router.
3 Make sure the cable from the modem goes into the router's {WAN|internet port} port, not a LAN port.
4 Connect a laptop by cable to the {modem|ont} directly: if that also fails, the fault is with the provider.
5 If your provider uses {PPPoE|username}, re-enter the username and password under Internet settings.
6 Check the provider's {outage|status} page or app before resetting anything.

== slow_wifi ax3000 guide
T Wi-Fi is much slower than the internet plan
C crowded channels; device on 2.4 GHz far from the router; router hidden in a cabinet; heavy uploads
S {dev} is really slow; internet is slow on wifi but fast on cable; {dev} speeds dropped a lot
1 Run a {speed test|speedtest} on a cable connection to confirm the plan speed.
2 Move the router out of {cabinets|cabinet|enclosed} and place it high and central.
3 Connect close devices to {5 GHz|5ghz}.
4 Change to a less busy {channel} or set channel to Auto.
5 Check for large {uploads|backups|downloads} and enable QoS if needed.

== device_cant_see_5ghz ax3000 faq
T Some devices do not see the 5 GHz network
C older devices support only 2.4 GHz; router using DFS channels the device does not support; band steering merges names
S my laptop can't see the 5g network of {dev}; only 2.4 shows up on {dev}; 5ghz missing from {dev}
1 Check the device's {specifications|spec} support 5 GHz.
2 Set the 5 GHz {channel} to 36-48 (non-DFS).
3 Turn off {band steering|smart connect} to give the bands separate names.
4 Update the device's {Wi-Fi driver|driver}.

== drops_wifi ax3000 faq
T Devices randomly drop off Wi-Fi
C interference; old firmware; power-saving on the device
S {dev} keeps dropping the connection; my laptop disconnects from {dev}; {dev} wifi cuts out every few minutes
1 Update the router {firmware|update}.
2 Switch to a different {channel}.
3 Disable Wi-Fi {power saving|power management} on the device.
4 Forget and {reconnect|rejoin} to the network.

== forgot_admin_password ax3000 guide
T Forgot the router admin password
C changed long ago; not written down
S I forgot the login for {dev}; can't access {dev} settings; admin password for {dev} doesn't work
1 Try the default {login|password} printed on the label.
2 Use the {app|mobile app} if you set it up with your account.
3 Hold the {reset} pinhole for 10 seconds with a paperclip as a last resort.
4 Set up {Wi-Fi name|ssid|wi-fi} and password again after the reset.

== mesh_satellite_offline mesh manual
T A mesh satellite node shows red or offline
C too far from the main node; moved or unplugged; interference
S one of the nodes in {dev} is red; {dev} satellite shows offline; the upstairs point of {dev} lost connection
1 Check the node has {power|plugged in} and a steady light after 2 minutes.
2 Move it {halfway|closer} between the main node and the dead spot, no more than two rooms away.
3 Use {Ethernet backhaul|ethernet|cable} if a cable run is available.
4 {Restart|reboot} the node and the main unit.
5 Remove and {re-add|add} the node in the app.

== mesh_slow_far_node mesh guide
T Devices near a far node are slow
C node placed at the edge of coverage; backhaul weak
S wifi near the garden node of {dev} is slow; the far node of {dev} gives bad speeds; {dev} is slow upstairs
1 Check {backhaul|signal} quality in the app.
2 Move the node {closer|nearer} to the main unit.
3 Add an {Ethernet|cable} backhaul.
4 Add a {node} in between.

== smart_devices_cant_join mesh faq
T Smart plugs and bulbs cannot join the mesh Wi-Fi
C 2.4 GHz-only devices confused by combined bands; WPA3-only security
S my smart plugs won't join {dev}; bulbs can't connect to {dev}; {dev} won't let iot devices in
1 Create a {2.4 GHz|iot network} IoT network.
2 Set security to {WPA2|wpa2/wpa3}.
3 Pair devices {near|close} to a node.
4 Turn off {band steering|smart connect} temporarily.

== port_forwarding_not_working ax3000 faq
T Port forwarding does not work
C double NAT; CGNAT by provider; wrong internal IP
S port forwarding on {dev} doesn't work; my game server can't be reached through {dev}; open ports on {dev} are still closed
1 Check the {WAN IP|public ip} matches your public IP.
2 Reserve a {static IP|dhcp reservation} for the device.
3 Put the provider's modem in {bridge mode|bridge}.
4 Ask the provider about {CGNAT|cgnat}.

== double_nat mesh guide
T Double NAT with the provider's gateway
C both the provider box and mesh route traffic
S the mesh of {dev} says double nat; gaming says strict nat with {dev}; {dev} behind another router
1 Set the provider box to {bridge mode|bridge}.
2 Or set the mesh to {access point mode|ap mode}.
3 {Restart|reboot} both devices.
4 Check {NAT type|nat} again.

== guest_network_no_internet ax3000 faq
T Guest network has no internet
C DHCP for guest off; isolation
S the guest wifi on {dev} has no internet; guests connect to {dev} but nothing loads; {dev} guest network broken
1 Enable {DHCP|guest dhcp} for the guest network.
2 Check {internet access|access} is allowed for guests.
3 {Restart|reboot} the router.
4 Update {firmware|update}.

== ip_conflict ax3000 faq
T IP address conflict warnings
C static IPs in the DHCP range
S my pc says ip conflict on {dev}; {dev} ip address conflict; two devices have the same address on {dev}
1 Check for {static IP|static} devices.
2 Move static IPs outside the {DHCP range|dhcp}.
3 {Restart|reboot} the router.
4 Use {DHCP reservation|reservation} instead.

== firmware_update_failed ax3000 guide
T Router unresponsive after a failed update
C power cut during update; corrupted image
S {dev} died after a firmware update; {dev} lights blink after update; {dev} won't boot after updating
1 Wait {10 minutes|10} for recovery.
2 {Power cycle|restart} the router.
3 Use the {recovery|rescue} mode in the manual.
4 {Reset|factory reset} then update again.
E the router still does not boot after recovery mode

== ethernet_slow_100mbps ax3000 faq
T Ethernet stuck at 100 Mbps
C damaged cable; Cat5 cable; port negotiation
S wired speed on {dev} is capped at 100; my pc shows 100 mbps on {dev}; ethernet from {dev} is slow
1 Replace the cable with {Cat5e|cat6}.
2 Try another {port}.
3 Check {link speed|speed} in the adapter.
4 Update the network {driver}.

== overheating_smell ax3000 forum safety
T Router very hot, melted or smells of burning
C failing power supply; blocked vents
S {dev} is too hot to touch; {dev} smells like burnt plastic; the adapter of {dev} melted
1 {Unplug|disconnect} the router and adapter if safe.
2 {Stop using|stop} it until replaced.
3 Keep it away from {flammable|fire} items.
4 {Contact support|support|manufacturer}.
E heat, smoke, melting or a burning smell
U wrap it in a damp towel to cool it; keep using it with a fan; replace the adapter with any one that fits

== mesh_setup_fails mesh guide
T Adding a mesh node fails
C too far; not in setup mode
S I can't add a node to {dev}; setup fails for {dev}; {dev} doesn't find the new point
1 Put the new node {close|near} to the main node.
2 Wait for {setup|pulsing} light.
3 Keep the phone {Bluetooth|bluetooth} on.
4 {Reset|factory reset} the node.

== dns_errors ax3000 faq
T Websites fail with DNS errors
C provider DNS problems
S websites won't load on {dev} but apps work; {dev} dns error; {dev} can't resolve names
1 Set {DNS|dns} to a public resolver.
2 {Restart|reboot} the router.
3 Flush {DNS cache|dns} on the computer.
4 Contact the {provider|isp}.

== parental_controls_not_blocking mesh faq
T Parental controls do not block sites
C encrypted DNS; random MAC addresses
S parental controls on {dev} don't work; my kid gets around {dev} filters; {dev} doesn't block sites
1 Turn off {private Wi-Fi address|random mac}.
2 Block {DNS over HTTPS|doh} in browsers.
3 Assign devices to the right {profile}.
4 {Update|firmware}.

== gateway_no_signal gw5g manual
T 5G gateway has weak or no cellular signal
C placement; SIM not active
S {dev} shows one bar; {dev} says no service; {dev} is slow
1 Place it by a {window}.
2 Check the {SIM|sim} is inserted and active.
3 Use the app's {signal|placement} tool.
4 {Restart|reboot} the gateway.

== random_mac_blocked mesh faq
T Phone blocked after it changed MAC address
C MAC filtering and private addresses
S {dev} blocks my phone; my phone can't join {dev} anymore; {dev} says device not allowed
1 Turn off {private address|random mac} on the phone.
2 Update the {MAC filter|allow list}.
3 {Reconnect|rejoin} the phone.
4 Consider disabling {MAC filtering|mac}.

== wps_not_working ax3000 faq
T WPS button does not connect devices
C WPS disabled; WPA3
S wps on {dev} doesn't work; pressing the wps button on {dev} does nothing; my printer won't connect with wps to {dev}
1 Enable {WPS|wps} in settings.
2 Use {WPA2|wpa2} security.
3 Press WPS on the device within {2 minutes|2}.
4 Use the {password} instead.
"""
