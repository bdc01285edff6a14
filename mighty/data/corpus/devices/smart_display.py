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
C grease or moisture on the glass; a screen protector; software freeze
S the touchscreen on {dev} doesn't respond; tapping {dev} does nothing; {dev} screen is frozen
1 Wipe the screen with a dry {microfibre cloth|cloth} to remove grease and water.
2 Remove any {screen protector|protector}, which can block touch on this panel.
3 Unplug the display for 30 seconds to {restart|reboot} it.
4 Install pending {updates|update} from the app's device settings.
5 If still frozen, {reset|factory reset} by holding volume up and down together for 10 seconds.

== camera_not_working_video_calls view10 manual
T Camera shows black or blocked during video calls
C the privacy shutter is closed; camera switch off; app permission
S the camera on {dev} shows black on calls; {dev} says camera is off; people can't see me on {dev}
1 Slide the {privacy shutter|shutter} on the top edge to the open position.
2 Check the {camera switch|switch} on the back is not in the red off position.
3 Allow {camera permission|camera} for the calling app in settings.
4 {Restart|reboot} the display.

== photo_frame_not_updating view8 faq
T Photo frame shows old photos only
C the album is not selected; the album is not shared with the display's account; sync delay
S {dev} doesn't show my new photos; the photo frame on {dev} is stuck on old pictures; {dev} shows no albums
1 Open photo frame settings in the app and select the {album} to show.
2 Check the album is {shared|sharing} with the account signed in on the display.
3 Allow up to an {hour} for new photos to sync, or restart the display.
4 Remove and re-add the {photo source|source} if nothing updates.

== wont_connect_wifi view10 faq
T Display will not connect to Wi-Fi
C wrong password; the network uses WPA3-only or a captive portal; router band settings
S {dev} won't connect to my wifi; {dev} keeps failing to join the network; {dev} says no internet
1 Re-enter the Wi-Fi {password} carefully.
2 Make sure the router broadcasts {2.4 GHz|5 ghz|band} and uses WPA2 or WPA2/WPA3 mixed security.
3 Avoid {captive portal|hotel|guest} networks that need a login page.
4 {Restart|reboot} the router and then the display.

== video_streaming_buffers view10 guide
T Videos buffer or play in low quality
C weak Wi-Fi signal in the kitchen; network congestion; 2.4 GHz only
S videos keep buffering on {dev}; streaming on {dev} is blurry; {dev} takes ages to load videos
1 Check the Wi-Fi {signal} strength in the display's settings.
2 Move the router or add a {mesh|extender} node nearer the kitchen.
3 Connect the display to the {5 GHz|5ghz} band if it is in range.
4 Pause large {downloads} on other devices.

== camera_feed_not_showing view10 faq
T Security camera or doorbell feed does not show on the display
C the camera account is not linked; the camera is offline; the name spoken does not match
S {dev} won't show my doorbell camera; the camera feed on {dev} says unavailable; {dev} can't stream the front door
1 Link the camera maker's {account|service} in the home app.
2 Check the camera is {online} in its own app.
3 Assign the camera to a {room} in the home app.
4 Ask for it by the exact {name} shown in the app.

== screen_too_bright_at_night view8 faq
T Screen too bright at night
C low-light mode off; no dimming schedule
S {dev} is too bright at night; {dev} lights up the bedroom; {dev} glares in the dark
1 Turn on {low-light mode|night mode} in display settings.
2 Set a {schedule} so the screen dims and shows a clock at night.
3 Turn on {auto brightness|ambient} so the light sensor can dim it.
4 Use {do not disturb|dnd} to stop notifications lighting the screen.

== stuck_on_logo_boot view8 guide
T Display stuck on the start-up logo
C an update interrupted by a power cut; a weaker replacement adapter
S {dev} is stuck on the logo; {dev} won't finish booting; {dev} keeps boot looping
1 Use the {original adapter|adapter}: the display needs its full-wattage supply.
2 Unplug it for {60 seconds} and plug it back in.
3 Wait {20 minutes} in case it is installing an update.
4 {Reset|factory reset} by holding the volume buttons for 15 seconds while it starts.
E it is still stuck after a factory reset

== auto_framing_not_following view10 faq
T Auto framing does not follow me on calls
C feature turned off; room too dark; more than one person in view
S the camera on {dev} doesn't follow me; auto framing on {dev} stopped working; {dev} cuts my head off on calls
1 Turn on {auto framing|framing} in the call settings.
2 Improve the {lighting|light} in the room.
3 Stay within {3 m|range} of the display.
4 {Update|firmware} the display.

== no_sound view8 faq
T No sound from the display
C volume at zero; a Bluetooth speaker still connected; do not disturb
S {dev} makes no sound; {dev} is silent when I ask it things; I can't hear {dev}
1 Raise the {volume} with the buttons on the back.
2 Disconnect any {Bluetooth} speaker the display is sending sound to.
3 Turn off {do not disturb|dnd}.
4 {Restart|reboot} the display.

== keeps_restarting view10 forum
T Display restarts by itself
C underpowered adapter; blocked vents; faulty firmware
S {dev} keeps rebooting; {dev} restarts every few minutes; {dev} turns off and on again
1 Use the {original adapter|adapter}.
2 Keep the vents {clear|ventilation}.
3 Install pending {updates|update}.
4 {Reset|factory reset} if it continues.

== cant_cast_to_display view8 guide
T Cannot cast to the display
C phone on a different network; guest network isolation; VPN
S I can't cast to {dev}; {dev} doesn't show up as a cast target; casting to {dev} fails
1 Put the phone on the {same network|same wi-fi} as the display.
2 Do not use the {guest network|guest}.
3 Turn off {VPN|vpn} on the phone.
4 {Restart|reboot} the display and the router.

== motion_sensing_not_waking view8 faq
T Screen does not wake when I walk up
C presence sensing off; sensor blocked
S {dev} doesn't wake up when I walk by; {dev} stays dim until I touch it; motion sensing on {dev} stopped
1 Turn on {motion sense|presence} in display settings.
2 Keep the {sensor} area above the screen clear.
3 Walk within {1.5 m|close} of the display.
4 {Restart|reboot} the display.

== hot_back_panel view10 faq safety
T Back of the display very hot or smelling of burning
C failing power supply; vents blocked by a wall or cupboard
S the back of {dev} is too hot to touch; {dev} smells like burning; the adapter of {dev} melted
1 {Unplug|disconnect} the display's adapter from the wall if it is safe to reach.
2 {Stop using|stop} the display until it has been checked.
3 Move it away from curtains, paper and anything {flammable}.
4 {Contact support|support|manufacturer} about a repair or replacement.
E heat, smoke, or a burning smell
U keep using it with a fan on it; use a different adapter to test; open the back to look

== alarm_not_ringing view8 faq
T Alarm does not ring
C do not disturb; alarm volume low; wrong am/pm
S {dev} alarm didn't go off; the alarm on {dev} was silent; I missed my alarm on {dev}
1 Raise the {alarm volume|alarm}.
2 Check {do not disturb|dnd}.
3 Verify the {alarm time|am/pm}.
4 {Restart|reboot} the display.

== mic_not_hearing view10 faq
T Display does not hear me
C mic switch off; placed next to a noisy appliance
S {dev} doesn't hear me; {dev} doesn't react to the wake word; I have to shout at {dev}
1 Turn the {mic switch|microphone} back on.
2 Move it away from {noisy appliances|noise}.
3 Retrain the {voice model|voice}.
4 {Restart|reboot} the display.

== screen_flickering view10 guide
T Screen flickers
C adaptive brightness; firmware
S the screen on {dev} flickers; {dev} display flashes; {dev} flickers at low brightness
1 Turn off {adaptive brightness|auto brightness}.
2 Set {brightness} above 30 %.
3 {Update|firmware} the display.
4 {Restart|reboot} the display.
E flicker continues after a reset

== calendar_not_showing view8 faq
T Calendar and personal results missing
C personal results off; voice match not set up
S {dev} won't show my calendar; {dev} says it can't access personal info; my events don't show on {dev}
1 Turn on {personal results}.
2 Set up {voice match}.
3 Share the {calendar} with the account.
4 {Restart|reboot} the display.

== smart_home_controls_missing view10 faq
T Home controls missing from the screen
C devices not in a room; account unlinked
S my lights don't show on {dev}; {dev} is missing the home controls; {dev} doesn't show my plugs
1 Assign devices to a {room}.
2 {Relink|link} the manufacturer account.
3 Refresh the {home controls|controls}.
4 {Restart|reboot} the display.

"""
