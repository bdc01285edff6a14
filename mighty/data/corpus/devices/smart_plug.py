"""Wi-Fi smart plugs. Original text written for Mighty."""

DEVICE = "smart_plug"
NOUNS = ["my smart plug", "my {short}", "the smart plug", "my wifi plug", "my {short} plug"]
FAMILIES = {
    "mini": ("PlugMate Wi-Fi mini smart plug", "PlugMate Mini"),
    "energy": ("PlugMate energy-monitoring smart plug", "PlugMate Energy"),
    "outdoor": ("PlugMate outdoor dual-outlet smart plug (IP44)", "PlugMate Outdoor"),
}
UNSAFE = ["bypass the breaker", "plug it into an extension lead daisy-chain", "tape over the overload protection",
          "use it with a load above its rating"]
ESCALATION = ["the plug still will not pair after a factory reset",
              "the plug shows scorch marks, melting or a burning smell"]

ISSUES = """
== wont_pair mini manual
T PlugMate Mini will not pair in the app
C the phone is on a 5 GHz network and the plug only supports 2.4 GHz; plug not in pairing mode; router security WPA3-only
S {dev} won't pair; the app can't find {dev}; setting up {dev} fails at 99 percent
1 Put the phone on the {2.4 GHz|2.4ghz} network, or temporarily split the router's bands into two names.
2 Hold the plug's button for 5 seconds until the light {blinks quickly|fast blink|blinking} (about twice a second): that is pairing mode.
3 Allow the app {location|bluetooth} permission so it can find the plug.
4 Set router security to {WPA2|wpa2/wpa3} if it is WPA3-only.
5 Stand within a few metres of the {router} during setup, then move the plug to its final place.

== goes_offline mini guide
T Plug shows offline in the app
C weak Wi-Fi signal; router changed its IP address; a power cut while the router was down
S {dev} keeps going offline; the app says {dev} is offline; {dev} disconnects every night
1 Check Wi-Fi {signal|signal strength} at the plug with your phone: aim for at least two bars.
2 Reserve an {IP address|dhcp reservation} for the plug in the router.
3 Unplug the plug for 10 seconds to {restart|power cycle} it after the router is back.
4 Move the router or add a {mesh node|extender|node} nearer the plug.

== schedule_not_running energy faq
T Schedules fire at the wrong time or not at all
C wrong time zone; daylight saving; plug offline at schedule time
S the schedule on {dev} doesn't work; {dev} turns on an hour late; {dev} ignores its timer
1 Check the plug's {time zone} in device settings.
2 {Recreate|re-create} the schedule after daylight saving changes.
3 Make sure the plug stays {online} at the scheduled time.
4 Turn off {away mode|random} that overrides schedules.

== energy_readings_wrong energy guide
T Energy readings look wrong
C very small loads below the sensor's accuracy; wrong tariff; reading in watts vs kWh
S {dev} shows weird energy numbers; {dev} power reading seems wrong; {dev} says 0 watts but my lamp is on
1 Check the {load} is above about 1-2 W; tiny loads read as zero.
2 Compare {watts|kwh} with the appliance label.
3 Set the {tariff|price} in the app.
4 Update {firmware|update}.

== turns_off_by_itself energy faq
T Plug switches off by itself
C overload protection; auto-off timer; away mode
S {dev} turns off on its own; {dev} keeps switching off with my heater; {dev} cuts power randomly
1 Check the load is below the plug's rating ({1800 W|rating|15 a}) and avoid heaters.
2 Look for an {auto-off|timer} in the app.
3 Turn off {away mode}.
4 Check the app {history|log} for the cause.

== sparking_scorch mini forum safety
T Plug sparks, crackles or has scorch marks
C loose or worn wall socket; damaged plug; overload
S {dev} sparked when I plugged it in; there are black marks on {dev}; {dev} crackles and smells
1 {Switch off|turn off} the wall socket and unplug the smart plug only if it is safe to touch.
2 {Stop using|stop} the smart plug and that socket.
3 If the socket is scorched, turn off its {breaker|circuit} and have an electrician inspect it.
4 {Contact support|support|manufacturer} and do not reuse the plug.
E any sparks, scorching, crackling or a burning smell
U keep using it if it still works; bypass the breaker; spray it with water; wrap it in tape

== hot_plug_melting energy faq safety
T Plug very hot or plastic softening under a heavy load
C heater or kettle near the rating for hours; poor contact in the socket
S {dev} got really hot with my heater; the plastic on {dev} is melting; {dev} is hot to touch
1 {Switch off|turn off} the load and the wall socket.
2 {Unplug|disconnect} when cool and safe.
3 {Stop using|stop} it for high loads and inspect the socket.
4 {Contact support|support|manufacturer}.
E heat, melting or discolouration
U keep the heater on it; put ice on it; plug it into an extension reel

== voice_assistant_cant_find mini guide
T Voice assistant cannot find the plug
C skill not linked; device name
S my assistant can't find {dev}; {dev} doesn't show in my voice app; voice commands don't work on {dev}
1 Link the PlugMate {skill|account} in the assistant app.
2 Run {discover devices|discover}.
3 Give the plug a simple {name}.
4 Assign it to a {room}.

== outdoor_water_ingress outdoor faq safety
T Water inside the outdoor plug or the socket trips
C covers left open; mounted facing up; flooding
S water got into {dev}; {dev} trips the breaker in rain; {dev} fills with water
1 {Switch off|turn off} the circuit at the breaker or RCD/GFCI before touching it.
2 {Stop using|stop} the plug until fully dry and checked.
3 Do not reset the {RCD|gfci} repeatedly while water is present.
4 {Contact support|support|electrician}.
E water inside, tripping or a burning smell
U reset the breaker until it stays on; bypass the breaker; tape over the GFCI

== outdoor_one_outlet outdoor guide
T One outlet of the dual plug will not switch
C wrong channel selected
S one socket of {dev} doesn't work; {dev} only switches one side; the second outlet on {dev} is stuck
1 Select the correct {outlet|channel} in the app.
2 Press the {button} for that outlet.
3 {Update|firmware}.
4 {Reset|factory reset}.

== wont_reconnect_after_router_change mini faq
T Plug offline after changing router
C old network saved
S {dev} is offline since I got a new router; {dev} lost connection after changing wifi; {dev} won't connect to new wifi
1 {Reset|factory reset} the plug by holding the button 5 s.
2 Remove the {old device|device} from the app.
3 {Pair|add} it again.
4 Keep the {same name|ssid} and password next time.

== clicking_relay energy faq
T Plug clicks repeatedly
C relay chattering
S {dev} clicks on and off; {dev} makes clicking noises; {dev} relay chatters
1 Check for {schedules|automation} loops.
2 Remove the {load} to test.
3 {Update|firmware}.
4 Stop using it if the {clicking} continues with sparking.

== appliance_doesnt_turn_on mini guide
T Appliance does not start when the plug turns on
C appliance switch off; electronic appliances stay in standby
S my fan doesn't start with {dev}; the lamp stays off with {dev}; {dev} turns on but my coffee machine doesn't
1 Leave the {appliance switch|switch} in the on position.
2 Use appliances that resume {after power loss|power}.
3 Test the appliance {directly|direct} in the wall.
4 Check {power-on state|state}.

== power_on_state energy faq
T Plug comes back on or off unexpectedly after a power cut
C power-on behaviour setting
S {dev} turned on after a power cut; {dev} stays off after outage; {dev} forgets its state
1 Set {power-on state|power on} to off, on or last state.
2 Check {schedules|schedule}.
3 {Update|firmware}.
4 Test by {unplugging|unplug}.

== wont_reset mini faq
T Plug will not reset
C button not held long enough
S I can't reset {dev}; {dev} won't go into reset; holding the button on {dev} does nothing
1 Hold the {button} for 5 to 10 seconds.
2 Watch for the {light|led} to blink fast.
3 {Unplug|power cycle} and try again.
4 Contact {support}.

== led_off energy faq
T Status light is off
C LED disabled
S {dev} light is off; {dev} has no light; {dev} led doesn't show
1 Enable the {LED|light} in settings.
2 Check {power|socket}.
3 {Update|firmware}.
4 {Restart|unplug} the plug.

== range_outdoor outdoor faq
T Outdoor plug out of Wi-Fi range
C walls; distance
S {dev} in the garden is offline; {dev} drops wifi outside; {dev} too far from router
1 Check {signal} at the plug.
2 Add an {extender|mesh}.
3 Move the {router}.
4 Use {2.4 GHz|2.4ghz}.

== delay_in_control mini faq
T Plug responds slowly
C cloud delays; weak signal
S {dev} takes ages to switch; {dev} is slow; {dev} lags
1 Check {internet|wi-fi}.
2 Enable {local control|local}.
3 Improve {signal}.
4 {Restart|reboot} the router.

== firmware_update_fails energy faq
T Firmware update fails
C weak signal; plug busy
S {dev} update fails; {dev} firmware is stuck; update error on {dev}
1 Move the plug {near|close} the router.
2 Turn off the {load}.
3 {Retry|try again} the update.
4 {Restart|power cycle} the plug.

== app_shows_wrong_state mini faq
T App shows the wrong on/off state
C sync lag
S {dev} shows on but it's off; the app is wrong about {dev}; {dev} state doesn't update
1 {Refresh|pull down} the app.
2 {Restart|power cycle} the plug.
3 Update the {app}.
4 Check {signal}.
"""
