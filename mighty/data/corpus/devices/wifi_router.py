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
C crowded channels; the device is on 2.4 GHz far from the router; router hidden in a cabinet; a backup or download using the bandwidth
S {dev} is really slow; the internet is slow on wifi but fast on a cable; {dev} speeds dropped a lot this month
1 Run a {speed test} on a laptop plugged in by cable to confirm the plan speed reaches the router.
2 Move the router out of {cabinets|cabinet|enclosed} and place it high up and central in the home.
3 Connect nearby devices to the {5 GHz|5ghz} network, which is much faster than 2.4 GHz at short range.
4 Change to a less busy {channel} in the wireless settings, or set the channel to Auto.
5 Look for large {uploads|backups|downloads} on other devices and turn on QoS if one device hogs the line.

== device_cant_see_5ghz ax3000 faq
T Some devices do not see the 5 GHz network
C older devices support only 2.4 GHz; the router uses DFS channels the device does not support; band steering merges the names
S my laptop can't see the 5g network from {dev}; only the 2.4 network shows up from {dev}; 5ghz is missing on {dev}
1 Check the device's {specifications|spec} to confirm it supports 5 GHz (802.11a/n/ac/ax).
2 Set the 5 GHz {channel} to 36-48, which every 5 GHz device supports, instead of a DFS channel.
3 Turn off {band steering|smart connect} to give the two bands separate names and join the 5 GHz one directly.
4 Update the device's Wi-Fi {driver} from the laptop maker's website.

== drops_wifi ax3000 faq
T Devices randomly drop off Wi-Fi
C interference on the chosen channel; old firmware; Wi-Fi power saving on the device
S {dev} keeps dropping the connection; my laptop keeps disconnecting from {dev}; the wifi from {dev} cuts out every few minutes
1 Update the router {firmware|update} from the admin page or app.
2 Switch to a different {channel}, avoiding the ones neighbours use most.
3 Turn off Wi-Fi {power saving|power management} on the device that drops.
4 {Forget|rejoin} the network on the device and connect again with the password.

== forgot_admin_password ax3000 guide
T Forgot the router admin password
C password changed long ago and not written down
S I forgot the login for {dev}; I can't get into the settings of {dev}; the admin password for {dev} doesn't work
1 Try the default admin {password|login} printed on the label under the router.
2 If you set the router up with the {app}, sign in there with your account instead.
3 As a last resort, hold the {reset} pinhole for 10 seconds with a paperclip while the router is on.
4 After the reset, set up the {Wi-Fi name|ssid|network name} and password again, ideally the same as before so devices reconnect.

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
T Devices near a far mesh node are slow
C the node is at the edge of the main unit's range; wireless backhaul shares bandwidth
S the wifi near the garden node of {dev} is slow; the far node of {dev} gives bad speeds; {dev} is slow upstairs
1 Check the {backhaul} quality for that node in the app: it should say Good or Excellent.
2 Move the node {closer} to the main unit, no more than two rooms away.
3 Connect the node with an {Ethernet|cable} cable for wired backhaul if you can.
4 Add another {node} in between to relay the signal.

== smart_devices_cant_join mesh faq
T Smart plugs and bulbs cannot join the mesh Wi-Fi
C 2.4 GHz-only devices confused by a combined network name; WPA3-only security
S my smart plugs won't join {dev}; my bulbs can't connect to {dev}; {dev} won't let iot devices join
1 Turn on the {IoT network|2.4 ghz} option in the app: a separate 2.4 GHz-only network name.
2 Set security to {WPA2|wpa2/wpa3} mixed rather than WPA3-only.
3 Pair each device {near|close} to a node.
4 Temporarily turn off {band steering|smart connect} during setup if there is no IoT option.

== port_forwarding_not_working ax3000 faq
T Port forwarding does not work
C double NAT behind the provider's modem-router; the provider uses CGNAT; the forward points at an old internal IP
S port forwarding on {dev} doesn't work; my game server can't be reached through {dev}; the ports I opened on {dev} still show closed
1 Compare the router's {WAN IP|wan address} with your public IP: if they differ, there is another router or CGNAT.
2 Give the target device a {DHCP reservation|reservation} so its internal IP does not change.
3 Put the provider's modem-router in {bridge mode|bridge} to remove double NAT.
4 Ask your provider whether you are behind {CGNAT} and whether a public IP is available.

== double_nat mesh guide
T Double NAT between the provider's gateway and the mesh
C both the provider's box and the mesh route traffic
S the app for {dev} warns about double nat; my console says strict nat with {dev}; {dev} is behind another router
1 Put the provider's gateway into {bridge mode|bridge} if it supports it.
2 Otherwise switch the mesh to {access point mode|ap mode|bridge mode} in the app.
3 {Restart|reboot} the gateway and then the mesh.
4 Check the {NAT type} again on the console or in the app.

== guest_network_no_internet ax3000 faq
T Guest network connects but has no internet
C guest DHCP off; guest access limited to local network
S the guest wifi on {dev} has no internet; guests connect to {dev} but nothing loads; the guest network on {dev} is broken
1 Check the guest network's {DHCP} option is on so guests get an address.
2 Make sure {internet access} is allowed for guests.
3 {Restart|reboot} the router.
4 Update the {firmware|update}.

== ip_conflict ax3000 faq
T IP address conflict warnings
C a device with a fixed IP inside the router's DHCP range
S my pc says there's an ip conflict on {dev}; {dev} gives two devices the same address; {dev} network shows ip address conflict
1 List devices that use a {static IP|fixed ip}.
2 Move static addresses outside the {DHCP range|dhcp pool} (for example use .2-.49 when DHCP starts at .50).
3 {Restart|reboot} the router so leases are handed out again.
4 Prefer {DHCP reservation|reservation} to typing static IPs on devices.

== firmware_update_failed ax3000 guide
T Router unresponsive after a failed firmware update
C a power cut during the update; corrupted firmware image
S {dev} died after a firmware update; the lights on {dev} just blink after updating; {dev} won't boot after the update
1 Wait {10 minutes}: the router may be recovering from a backup image.
2 {Power cycle|restart} the router once.
3 Follow the {recovery|rescue} mode steps in the manual (hold reset while powering on and upload the firmware from a cabled PC).
4 After recovery, {reset|factory reset} it and update again on a cabled connection.
E the router still does not boot after recovery mode

== ethernet_slow_100mbps ax3000 faq
T Ethernet link stuck at 100 Mbps
C damaged cable; an old Cat5 cable; a dirty or bent port contact
S the wired speed on {dev} is capped at 100; my pc shows 100 mbps on {dev}; ethernet from {dev} is slow
1 Replace the cable with a {Cat5e|cat6} one.
2 Try another {port} on the router.
3 Check the {link speed} in the computer's network adapter status.
4 Update the computer's network {driver}.

== overheating_smell ax3000 forum safety
T Router very hot, melted or smelling of burning
C failing power adapter; vents blocked in a cupboard
S {dev} is too hot to touch; {dev} smells like burnt plastic; the adapter of {dev} melted
1 {Unplug|disconnect} the router's power adapter from the wall if it is safe to touch.
2 {Stop using|stop} the router and adapter until they are replaced.
3 Move it away from paper, curtains and other {flammable} items.
4 {Contact support|support|manufacturer} for a replacement unit and adapter.
E heat, smoke, melting or a burning smell
U wrap it in a damp towel to cool it; keep using it with a fan; replace the adapter with any one that fits

== mesh_setup_fails mesh guide
T Adding a new mesh node fails
C the node is too far from the main node; not in setup mode; phone Bluetooth off
S I can't add a node to {dev}; setup fails for {dev}; {dev} doesn't find the new point
1 Place the new node in the {same room|close} as the main node for setup.
2 Wait for the {pulsing} light that shows it is ready to set up.
3 Keep the phone's {Bluetooth} on during setup.
4 {Reset|factory reset} the node and try again.

== dns_errors ax3000 faq
T Websites fail with DNS errors
C the provider's DNS servers are slow or down
S websites won't load on {dev} but apps work; {dev} shows dns errors; {dev} can't resolve web addresses
1 Set the router's {DNS} servers to a public resolver.
2 {Restart|reboot} the router.
3 Flush the {DNS cache|dns} on the computer.
4 Contact the {provider|isp} if the errors continue.

== parental_controls_not_blocking mesh faq
T Parental controls do not block sites
C encrypted DNS in browsers; private MAC addresses on phones
S parental controls on {dev} don't work; my kid gets around the filters on {dev}; {dev} doesn't block the sites I chose
1 Turn off {private Wi-Fi address|random mac} on the children's devices.
2 Block {DNS over HTTPS|doh} in the browsers.
3 Assign each device to the right {profile}.
4 {Update|firmware} the mesh.

== gateway_no_signal gw5g manual
T 5G gateway has weak or no cellular signal
C gateway placed away from windows; SIM not active
S {dev} shows one bar; {dev} says no service; {dev} is slow
1 Place it near a {window} facing the nearest mast.
2 Check the {SIM} is inserted and active.
3 Use the app's {signal|placement} tool.
4 {Restart|reboot} the gateway.

== random_mac_blocked mesh faq
T Phone blocked after it changed MAC address
C MAC filtering plus private addresses
S {dev} blocks my phone; my phone can't join {dev} anymore; {dev} says device not allowed
1 Turn off {private address|random mac} for this network on the phone.
2 Update the {MAC filter|allow list}.
3 {Reconnect|rejoin} the phone.
4 Consider disabling {MAC filtering|mac}.

== wps_not_working ax3000 faq
T WPS button does not connect devices
C WPS disabled; WPA3-only security
S wps on {dev} doesn't work; pressing the wps button on {dev} does nothing; my printer won't connect to {dev} with wps
1 Enable {WPS} in the wireless settings.
2 Use {WPA2} security: WPS does not work with WPA3-only.
3 Press WPS on the printer within {2 minutes} of pressing it on the router.
4 Enter the Wi-Fi {password} on the device instead.

"""
