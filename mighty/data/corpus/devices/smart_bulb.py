"""Smart bulbs: Wi-Fi, Zigbee (with a bridge) and GU10 spots. Original text written for Mighty."""

DEVICE = "smart_bulb"
NOUNS = ["my smart bulb", "my {short} bulb", "the smart bulb", "my wifi bulb", "my {short}", "my light bulb"]
FAMILIES = {
    "wifi": ("Lumina Wi-Fi colour bulb (A19/E26)", "Lumina Colour"),
    "zigbee": ("Lumina Zigbee white-ambiance bulb with bridge", "Lumina Zigbee"),
    "gu10": ("Lumina GU10 mains spotlight", "Lumina GU10"),
}
UNSAFE = ["touch the socket contacts with the power on", "use it in a fixture rated for less wattage",
          "bypass the breaker", "change the bulb with the switch on"]
ESCALATION = ["the bulb still fails after a reset in a different, known-good fitting",
              "the fitting shows scorch marks, melting or a burning smell"]

ISSUES = """
== wont_pair wifi manual
T Lumina Wi-Fi bulb will not pair in the app
C bulb not in pairing mode; phone on 5 GHz while the bulb needs 2.4 GHz; the bulb is already registered to another account
S {dev} won't pair with the app; the app can't find {dev}; setting up {dev} fails every time
1 Put the bulb in {pairing mode} by switching the wall switch off and on 5 times (on for about 1 second each) until it blinks.
2 Connect the phone to the {2.4 GHz|2.4ghz} Wi-Fi network and allow the app location permission.
3 In the app choose Add device and keep the phone within a few metres of the bulb and the {router}.
4 If the bulb was used before, {remove|delete} it from the old account, then repeat the pairing.

== wont_pair zigbee manual
T Zigbee bulb is not found by the bridge
C bulb too far from the bridge or nearest mains-powered Zigbee device; still joined to an old bridge; bridge not searching
S the bridge can't find {dev}; {dev} won't add to my hub; {dev} isn't discovered when I search for lights
1 Make sure the {bridge} is online (solid lights) and the app can see it.
2 Bring the bulb within {3 m|close|near} of the bridge for pairing, or use a lamp near it.
3 {Reset|factory reset} the bulb with 6 quick off/on cycles at the wall switch until it flashes.
4 In the app choose {Search for lights|search} or Add light, or enter the serial number printed on the bulb.
5 Move the bulb back; mains-powered Zigbee bulbs act as {repeaters|repeater|mesh} for each other.

== flickering wifi guide
T Bulb flickers
C connected through a wall dimmer not meant for smart bulbs; loose bulb in the socket; illuminated switch leaking current
S {dev} flickers; {dev} keeps flashing; {dev} blinks randomly
1 Replace any wall {dimmer} with a standard on/off switch: smart bulbs dim themselves.
2 Switch off and {tighten|screw in} the bulb firmly in the socket.
3 Check for an {illuminated switch|lit switch|neon switch} that leaks current and replace it.
4 Update the bulb {firmware|update} in the app.

== flickering_dimmed gu10 faq
T GU10 spotlight flickers on a dimmer circuit
C an old leading-edge dimmer meant for halogen; the dimmer's minimum load is above the LED wattage
S {dev} flickers on the dimmer; {dev} buzzes and flickers; {dev} shimmers when it's dimmed
1 Turn the wall {dimmer} to full and do the dimming in the app instead.
2 Have the dimmer replaced with a {trailing-edge|trailing edge|led-compatible} LED dimmer or a plain switch.
3 Compare the dimmer's {minimum load|load} with the total LED wattage on that circuit.
4 Update the spotlight {firmware|update} in the app.

== goes_offline_when_switched_off wifi faq
T Bulb offline because the wall switch was turned off
C the bulb needs constant power to stay online
S {dev} goes offline when I turn off the light switch; {dev} says unreachable; {dev} doesn't respond to the app at night
1 Leave the wall {switch} on all the time and control the bulb from the app or voice.
2 Fit a {switch guard|guard|cover} or use a smart remote.
3 Use a {smart switch|switch} if you prefer wall control, with normal bulbs.
4 Wait {30 seconds} after switching on for reconnection.

== wrong_colour wifi faq
T Bulb shows the wrong colour
C scene active; colour temperature setting; white mode
S {dev} is the wrong color; {dev} looks blue; {dev} won't go warm white
1 Turn off any active {scene}.
2 Set {colour temperature|white} to warm (2700 K).
3 Reset the bulb's {colour|color} in the app.
4 Check {routines|automations}.

== turns_on_after_power_outage zigbee guide
T Bulbs come on at full brightness after a power cut
C power-on behaviour setting
S {dev} all came on in the night after a power cut; {dev} turns on after outage; {dev} wakes us up
1 Set {power-on behaviour|power on} to last state.
2 Update {firmware|update}.
3 Use a {UPS|ups} for the bridge.
4 Check the {bridge} settings.

== unreachable_in_app zigbee forum
T Zigbee bulbs show unreachable
C Wi-Fi interference on the same channel; bridge far away
S {dev} says unreachable; {dev} drops out of the bridge; {dev} won't respond
1 Change the {Zigbee channel|channel}.
2 Move the {bridge} away from the router.
3 Add {repeaters|repeater}.
4 {Restart|power cycle} the bridge.

== wont_dim_low wifi faq
T Bulb does not dim low enough
C minimum brightness
S {dev} won't dim enough; {dev} is too bright at 1%; {dev} can't go dimmer
1 Set {brightness} to 1 %.
2 Use {night light|night} mode.
3 Update {firmware|update}.
4 Use a warm {colour|color}.

== buzzing_bulb gu10 faq
T GU10 spotlight buzzes
C a dimmer that chops the mains waveform harshly; a loose lamp holder
S {dev} buzzes; {dev} hums all the time; {dev} makes a noise when it's on
1 Set the wall {dimmer} to full, or bypass dimming with a plain switch.
2 Replace an old dimmer with a {trailing-edge|trailing edge} LED type.
3 Swap the spotlight with another {spotlight|spot} to see whether the noise follows it.
4 With the power off, check the lamp {holder|fitting} grips the pins firmly.

== burning_smell_socket wifi faq safety
T Burning smell or scorch marks at the bulb socket
C loose socket contact; overheating
S {dev} smells like burning; there's a brown mark on the socket of {dev}; {dev} socket sparked
1 {Switch off|turn off} the light and the breaker.
2 {Stop using|stop} the fitting.
3 Let it {cool|cooled} before touching.
4 Have an {electrician} inspect the fitting and {contact support|support}.
E any scorch, smell, sparks
U keep using it; bypass the breaker; touch the socket contacts with the power on

== overheating_enclosed_fixture gu10 guide safety
T GU10 spotlights overheating in an enclosed or insulated fitting
C downlights covered by loft insulation; fittings not rated for the spotlight
S {dev} is too hot to touch; {dev} keeps turning itself off; the fitting around {dev} is discoloured
1 {Switch off|turn off} the lighting circuit and let the spotlights cool before touching them.
2 {Stop using|stop} smart spotlights in that enclosed or insulation-covered fitting.
3 Check the fitting's {rating} and ask an electrician to fit fire-rated, ventilated downlights if needed.
4 {Contact support|support} if a spotlight is discoloured or deformed.
E discolouration, melting, a burning smell
U use it in a fixture rated for less wattage; cover the fixture with insulation

== scenes_not_syncing_group zigbee faq
T Bulbs in a group switch one after another
C lights controlled one by one instead of as a bridge group; weak Zigbee links
S {dev} and the others turn on one by one; {dev} and the other lights do a popcorn effect; the group with {dev} is slow
1 Create a {room|group} on the bridge and control that, not each bulb.
2 Avoid apps that switch bulbs {individually} through the cloud.
3 Update the bulb {firmware|update}.
4 Add a mains-powered {repeater} between the bridge and distant bulbs.

== voice_control_wrong_bulb wifi faq
T Voice assistant switches the wrong bulb
C two bulbs share a name; rooms not set
S my assistant turns on the wrong light instead of {dev}; voice control mixes up {dev} with another room; saying the name of {dev} switches the kitchen
1 Give each bulb a {unique name|name}.
2 Assign each bulb to a {room}.
3 Ask the assistant to {discover|resync} devices again.
4 Test with the {full name|name}, e.g. "bedroom lamp".

== wake_fade_not_working zigbee faq
T Wake-up fade does not work
C routine set on the wrong days; wall switch off overnight
S the wake up fade on {dev} doesn't work; {dev} routine fails; {dev} stays off in the morning
1 Check the {routine} days and time.
2 Check the bridge's {time zone}.
3 Leave the wall {switch} on overnight.
4 Update the {firmware|update}.

== cant_add_after_moving wifi faq
T Cannot add the bulb after moving house
C the bulb is still linked to the previous owner's account
S {dev} won't add after I moved; {dev} belongs to the old owner's account; the app says {dev} can't be added
1 {Reset|factory reset} the bulb with 5 on/off cycles.
2 Ask the previous owner to remove it from their {account}.
3 {Pair|add} it again.
4 Use your {2.4 GHz|2.4ghz} network.

== gu10_not_responding_in_ceiling gu10 faq
T Ceiling spotlights drop off Wi-Fi
C metal downlight housings block the signal; spotlights far from the router
S {dev} in the ceiling goes offline; {dev} keeps losing wifi; the app says {dev} is not responding
1 Check the Wi-Fi {signal} under the ceiling with your phone.
2 Add a {mesh|extender} node on that floor.
3 Move the {router} higher or more central.
4 Use {plastic|non-metal} downlight housings where possible.

== colour_mismatch zigbee faq
T Bulbs show slightly different whites
C different bulb generations; firmware; set to different colour temperatures
S {dev} is a different shade from the others; {dev} doesn't match the other lights; the whites on {dev} vary
1 Update all bulbs' {firmware|update}.
2 Set the same {colour temperature|kelvin}.
3 Use bulbs from the same {generation|model} in one room.
4 {Reset|factory reset} the odd one out and add it again.

== firmware_update_stuck zigbee faq
T Bulb firmware update stuck
C wall switch turned off during update; bulb far from the bridge
S the update on {dev} is stuck; {dev} firmware won't install; {dev} shows update pending for days
1 Keep the wall {switch} on.
2 Move the {bridge} closer or add a repeater.
3 {Restart|power cycle} the bridge.
4 Allow a few {hours|overnight}: Zigbee updates are slow.

== ghosting_glow wifi faq
T Bulb glows faintly when switched off
C an illuminated wall switch leaks a small current
S {dev} glows when it's off; {dev} is faintly on at night; {dev} won't fully turn off
1 Check for an {illuminated switch|lit switch}.
2 Replace it with a {standard switch|plain switch}.
3 Turn the bulb off from the {app} instead.
4 Ask an {electrician} if it continues.

"""
