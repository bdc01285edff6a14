"""Smart displays with voice assistant, some with a camera. Original text written for Mighty."""

DEVICE = "smart_display"
NOUNS = ["my smart display", "my {short}", "the smart display", "my kitchen display", "my {short} display"]
FAMILIES = {
    "view8": ("HomeEcho View 8-inch smart display", "HomeEcho View 8"),
    "view10": ("HomeEcho View 10 smart display with camera", "HomeEcho View 10"),
}
UNSAFE = ["use a different power adapter with a higher voltage", "open the back cover", "remove the privacy shutter with a knife"]
ESCALATION = ["the display still fails after a factory reset", "the screen is cracked or has lines that stay after a restart"]

ISSUES = """
== screen_black_but_audio view8 faq
T Screen stays black while the assistant still answers
C brightness set to minimum; ambient light sensor dims it in a dark room; screen-off schedule; failing backlight
S the screen on {dev} is black but it still talks; {dev} answers but the display stays dark; I can hear {dev} but can't see anything
1 Say "set {brightness} to 100 percent" or swipe down from the top edge to raise it.
2 Check the {ambient light|light sensor} sensor above the screen is not covered and turn off auto-brightness to test.
3 Look in display settings for a {screen off|schedule} schedule or sleep mode and disable it.
4 Unplug the display for 30 seconds and {restart|reboot} it.
E the screen stays black at full brightness after a restart

== touchscreen_unresponsive view8 guide
T Touchscreen ignores taps
C dirt or moisture on the glass; a screen protector; software freeze
S {dev} touchscreen doesn't respond; tapping {dev} does nothing; {dev} screen is frozen
1 Wipe the screen with a dry {microfibre cloth|cloth}.
2 Remove any {screen protector|protector}.
3 Unplug for 30 seconds to {restart|reboot}.
4 Install pending {updates|update}.
5 {Reset|factory reset} with volume up and down held for 10 seconds if still frozen.

== camera_not_working_video_calls view10 manual
T Camera shows black or blocked during video calls
C the privacy shutter is closed; camera switch off; app permission
S the camera on {dev} shows black on calls; {dev} says camera is off; people can't see me on {dev}
1 Slide the {privacy shutter|shutter} on the top edge to the open position.
2 Check the {camera switch|switch} on the back is not in the red off position.
3 Allow {camera permission|camera} for the calling app in settings.
4 {Restart|reboot} the display.

== photo_frame_not_updating view8 faq
T Photo frame does not show new photos
C album not selected; sharing permissions; cache
S {dev} doesn't show new photos; photo frame on {dev} stuck on old pictures; {dev} shows no albums
1 Open photo frame settings and select the {album}.
2 Check the album is {shared|sharing} with the account.
3 Wait up to an {hour} for sync, or restart.
4 Remove and re-add the {photo source|source}.

== wont_connect_wifi view10 faq
T Display will not connect to Wi-Fi
C wrong password; router band settings; captive portal networks
S {dev} won't connect to wifi; {dev} keeps failing to join the network; {dev} says no internet
1 Recheck the Wi-Fi {password}.
2 Enable {2.4 GHz|5 ghz|band} bands on the router.
3 Avoid {captive portal|hotel|guest} networks that need a login page.
4 {Restart|reboot} the router and display.

== video_streaming_buffers view10 guide
T Videos buffer or play in low quality
C weak Wi-Fi signal in the kitchen; network congestion; router on 2.4 GHz
S videos keep buffering on {dev}; streaming on {dev} is blurry; {dev} loads slowly
1 Check the {signal} strength on the display.
2 Move the router or add a {mesh|extender} node.
3 Use the {5 GHz|5ghz} band if in range.
4 Pause large {downloads} on other devices.

== camera_feed_not_showing view10 faq
T Security camera or doorbell feed does not show on the display
C camera account not linked; camera offline; subscription limits
S {dev} won't show my doorbell camera; camera feed on {dev} says unavailable; {dev} can't stream the front door
1 Link the camera {account|service} in the home app.
2 Check the camera is {online} in its own app.
3 Assign it to a {room}.
4 Ask by the exact {name} shown in the app.

== screen_too_bright_at_night view8 faq
T Screen too bright at night
C ambient mode off; night mode schedule
S {dev} is too bright at night; {dev} lights up the bedroom; {dev} screen glares in the dark
1 Enable {night mode|low light} or low-light mode.
2 Set a {schedule} for dimming.
3 Enable {ambient|auto brightness} brightness.
4 Use {do not disturb|dnd} to stop notifications.

== stuck_on_logo_boot view8 guide
T Stuck on the start-up logo
C interrupted update; weak adapter
S {dev} is stuck on the logo; {dev} won't finish booting; {dev} boot loops
1 Use the {original adapter|adapter} that came with it.
2 Unplug for {60 seconds|60} and retry.
3 Wait {20 minutes|20} in case an update is installing.
4 {Reset|factory reset} with volume buttons held for 15 s.
E it is still stuck after a factory reset

== auto_framing_not_following view10 faq
T Auto framing does not follow me on calls
C feature off; low light; multiple people
S the camera on {dev} doesn't follow me; auto framing on {dev} stopped working; {dev} cuts my head off on calls
1 Enable {auto framing|framing} in the call settings.
2 Improve {lighting|light} in the room.
3 Stay within {3 m|range} of the display.
4 {Update|firmware} the display.

== no_sound view8 faq
T No sound from the display
C volume at zero; Bluetooth speaker still connected; muted
S {dev} makes no sound; {dev} is silent; I can't hear {dev}
1 Raise the {volume}.
2 Disconnect any {Bluetooth|bluetooth} speaker.
3 Check {do not disturb|dnd}.
4 {Restart|reboot} the display.

== keeps_restarting view10 forum
T Display restarts by itself
C underpowered adapter; faulty firmware; overheating
S {dev} keeps rebooting; {dev} restarts every few minutes; {dev} turns off and on again
1 Use the {original adapter|adapter}.
2 Keep the vents {clear|ventilation}.
3 Install {updates|update}.
4 {Reset|factory reset} if it continues.

== cant_cast_to_display view8 guide
T Cannot cast to the display
C different networks; guest network isolation
S I can't cast to {dev}; {dev} doesn't show up as a cast target; casting to {dev} fails
1 Put the phone on the {same network|same wi-fi}.
2 Avoid the {guest network|guest}.
3 Turn off {VPN|vpn} on the phone.
4 {Restart|reboot} the display and router.

== motion_sensing_not_waking view8 faq
T Screen does not wake as I walk up
C presence sensing off; sensor blocked
S {dev} doesn't wake up when I walk by; {dev} stays dim until I touch it; motion sensing on {dev} stopped
1 Enable {motion sense|presence} in display settings.
2 Keep the {sensor} area clear.
3 Approach within {1.5 m|close} of the display.
4 {Restart|reboot} the display.

== hot_back_panel view10 faq safety
T Display back panel very hot or smelling of burning
C failing power supply; blocked vents
S the back of {dev} is too hot to touch; {dev} smells like burning; {dev} adapter melted
1 {Unplug|disconnect} the display if safe.
2 {Stop using|stop} it until checked.
3 Keep it away from anything {flammable|fire}.
4 {Contact support|support|manufacturer}.
E heat, smoke, or a burning smell
U keep using it with a fan on it; use a different adapter to test; open the back to look

== alarm_not_ringing view8 faq
T Alarm does not ring
C do not disturb; alarm volume low
S {dev} alarm didn't go off; {dev} alarm was silent; I missed my alarm on {dev}
1 Raise {alarm volume|alarm}.
2 Check {do not disturb|dnd}.
3 Verify alarm {time|am/pm}.
4 {Restart|reboot} the display.

== mic_not_hearing view10 faq
T Display does not hear me
C mic switch off; placement
S {dev} doesn't hear me; {dev} doesn't react to the wake word; I have to shout at {dev}
1 Turn on the {mic switch|microphone}.
2 Move it from {noise|noisy} appliances.
3 Retrain the {voice|voice model}.
4 {Restart|reboot}.

== screen_flickering view10 guide
T Screen flickers
C adaptive brightness; firmware
S {dev} screen flickers; {dev} display flashes; {dev} flickers at low brightness
1 Turn off {adaptive brightness|auto brightness}.
2 Set {brightness} above 30 %.
3 {Update|firmware} the display.
4 {Restart|reboot}.
E flicker continues after a reset

== calendar_not_showing view8 faq
T Calendar or personal results missing
C personal results off; voice match not set
S {dev} won't show my calendar; {dev} says it can't access personal info; my events don't show on {dev}
1 Turn on {personal results}.
2 Set up {voice match}.
3 Check the {calendar} is shared with the account.
4 {Restart|reboot}.

== smart_home_controls_missing view10 faq
T Home controls missing from the screen
C devices not in a room; account unlinked
S my lights don't show on {dev}; {dev} is missing home controls; {dev} doesn't show my plugs
1 Assign devices to a {room}.
2 {Relink|link} the manufacturer account.
3 Refresh {home controls|controls}.
4 {Restart|reboot}.
"""
