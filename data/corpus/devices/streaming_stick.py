"""HDMI streaming sticks. Original text written for Mighty."""

DEVICE = "streaming_stick"
NOUNS = ["my streaming stick", "my {short}", "the streaming stick", "my tv stick", "my {short} stick"]
FAMILIES = {
    "k4": ("StreamDot 4K streaming stick", "StreamDot 4K"),
    "hd": ("StreamDot HD streaming stick", "StreamDot HD"),
}
UNSAFE = ["sideload a cracked app to get paid channels free", "disable the ventilation", "wrap it in foil to boost Wi-Fi"]
ESCALATION = ["the stick still fails after a factory reset", "the stick gets hot enough to show heat damage"]

ISSUES = """
== no_signal_tv k4 manual
T TV shows "No signal" with the stick plugged in
C TV set to the wrong HDMI input; stick powered from a weak TV USB port; loose HDMI connection
S my tv says no signal with {dev}; {dev} shows a black screen; nothing comes up on the tv from {dev}
1 Press the TV's {Input|source} button and choose the HDMI port the stick is in.
2 Power the stick from the {power adapter|wall adapter|adapter} supplied, not the TV's USB port.
3 Use the {HDMI extender|extender} cable to get a firm fit away from other plugs.
4 Try a {different HDMI port|hdmi port} on the TV.
5 Unplug the stick for 30 seconds to {restart|power cycle} it.

== remote_not_pairing k4 guide
T Remote does not control the stick
C remote not paired; flat batteries; Bluetooth remote too far
S the remote of {dev} doesn't work; {dev} ignores the remote; {dev} remote is unpaired
1 Replace the {batteries|battery}.
2 Hold {Home|home} for 10 seconds to pair the remote.
3 Stand within {3 m|close} of the TV.
4 {Restart|unplug} the stick and try again.

== buffering k4 faq
T Video keeps buffering
C weak Wi-Fi behind the TV; busy network; 2.4 GHz band
S {dev} keeps buffering; videos on {dev} stop to load; {dev} streams in low quality
1 Run the {network test|speed test} in settings.
2 Use the {5 GHz|5ghz} network.
3 Move the router or use the {HDMI extender|extender}.
4 {Restart|reboot} the router and stick.

== no_4k_hdr k4 guide
T No 4K or HDR picture
C TV port without HDCP 2.2; enhanced HDMI format off; older cable
S {dev} won't play 4k; {dev} has no hdr; {dev} stuck at 1080p
1 Use a TV {HDMI port|port} that supports HDCP 2.2.
2 Turn on {enhanced|hdmi ultra hd deep colour} HDMI format in TV settings.
3 Set {display|resolution} to Auto.
4 Use content that is {4K|hdr}.

== no_sound_or_dolby k4 faq
T No sound or no Dolby audio
C audio set to Dolby the TV cannot decode
S {dev} has no sound; {dev} audio doesn't work; {dev} dolby not working
1 Set {audio|sound} output to Stereo to test.
2 Check {TV volume|volume} and mute.
3 Check the soundbar {passthrough}.
4 {Restart|reboot} the stick.

== overheating_burning_smell hd forum safety
T Stick very hot or smelling of burning
C blocked airflow; failing power supply
S {dev} is too hot to touch; {dev} smells burnt; the {dev} adapter melted
1 {Unplug|disconnect} the stick and adapter.
2 {Stop using|stop} it.
3 Let it {cool|cooled} on a non-flammable surface.
4 {Contact support|support}.
E heat damage, smell, melting
U wrap it in foil; keep using it; put it in the freezer

== reboots_randomly hd faq
T Stick reboots randomly
C weak TV USB power
S {dev} restarts by itself; {dev} reboots mid-show; {dev} keeps crashing
1 Use the {wall adapter|adapter}.
2 Use the supplied {cable}.
3 {Update|software}.
4 {Reset|factory reset}.

== remote_volume_not_working k4 faq
T Remote volume does not control the TV
C equipment control not set; IR
S volume buttons on {dev} remote don't work; {dev} can't mute the tv; {dev} remote won't change volume
1 Open {equipment control|equipment} settings.
2 Select your {TV brand|tv}.
3 Turn on {CEC|hdmi-cec}.
4 {Restart|reboot}.

== app_crashes k4 faq
T Apps crash
C cache; storage
S apps on {dev} crash; {dev} apps close; {dev} app won't open
1 {Clear cache|cache}.
2 {Update|update the app} the app.
3 Free {storage}.
4 {Reinstall|uninstall} the app.

== storage_full hd faq
T Storage full
C too many apps
S {dev} says storage full; {dev} can't install; {dev} no space
1 Uninstall {unused apps|apps}.
2 {Clear cache|cache}.
3 Check {storage} in settings.
4 {Restart|reboot}.

== cant_connect_wifi hd faq
T Cannot connect to Wi-Fi
C captive portal; 2.4 GHz only
S {dev} won't join wifi; {dev} wifi fails; {dev} hotel wifi doesn't work
1 Use a {2.4 GHz|2.4ghz} network.
2 Check the {password}.
3 Avoid {captive portal|hotel} networks.
4 {Restart|reboot}.

== screen_mirroring_fails k4 faq
T Screen mirroring fails
C different networks; VPN
S mirroring to {dev} fails; my phone can't find {dev}; {dev} won't mirror
1 Use the {same network|same wi-fi}.
2 Turn off {VPN|vpn}.
3 Enable {mirroring} on the stick.
4 {Restart|reboot}.

== stuck_on_logo hd guide
T Stuck on the logo at start-up
C interrupted update; weak power
S {dev} stuck on logo; {dev} won't boot; {dev} boot loop
1 Use the {wall adapter|adapter}.
2 Unplug {30 seconds|30}.
3 Wait {15 minutes|15}.
4 {Reset|factory reset} with the remote combo.

== picture_wrong_size hd faq
T Picture cut off or too small
C overscan; TV aspect
S {dev} picture is cut off; {dev} edges missing; {dev} screen too small
1 Set TV aspect to {Just Scan|screen fit|fit}.
2 Run {display calibration|calibration}.
3 Set {resolution} to Auto.
4 {Restart|reboot}.

== hdmi_cec_turns_tv_on k4 faq
T TV turns on by itself
C HDMI-CEC
S {dev} turns my tv on; tv switches on with {dev}; {dev} wakes the tv
1 Turn off {CEC|hdmi-cec} on the stick.
2 Or in the {TV|tv} settings.
3 Check {schedules|sleep}.
4 {Restart|reboot}.

== lip_sync k4 faq
T Audio out of sync
C processing delay
S {dev} audio delay; lips don't match on {dev}; {dev} out of sync
1 Use {AV sync|av sync} settings.
2 Turn on {game mode|game}.
3 Set {audio|stereo} to stereo to test.
4 {Update|software}.

== voice_remote_mic k4 faq
T Voice search does not hear me
C mic button; batteries
S voice search on {dev} doesn't work; {dev} remote mic is dead; {dev} doesn't hear me
1 Replace {batteries|battery}.
2 Hold the {mic button|voice button} while speaking.
3 Re-pair the {remote}.
4 {Restart|reboot}.

== update_fails hd faq
T System update fails
C storage; network
S {dev} update fails; {dev} update error; {dev} can't update
1 Free {storage}.
2 Check {network|internet}.
3 {Restart|reboot}.
4 {Retry|try again}.

== parental_pin_forgotten k4 faq
T Forgot parental PIN
C PIN forgotten
S I forgot the pin on {dev}; {dev} parental pin; {dev} locked
1 Reset the {PIN|pin} from the account website.
2 Sign in to {account}.
3 Set a new {PIN|pin}.
4 {Restart|reboot}.

== wifi_weak_behind_tv hd faq
T Weak Wi-Fi behind the TV
C TV blocks signal
S {dev} has weak wifi; {dev} signal low; {dev} wifi bad behind tv
1 Use the {HDMI extender|extender}.
2 Move the {router}.
3 Use {5 GHz|5ghz}.
4 Add a {mesh|extender} node.
"""
