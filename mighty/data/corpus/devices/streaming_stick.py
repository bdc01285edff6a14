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
C remote lost its Bluetooth pairing; flat batteries; remote too far or blocked by the TV
S the remote for {dev} doesn't do anything; {dev} ignores the remote; the remote for {dev} stopped working after new batteries
1 Fit fresh {batteries|battery} the right way round.
2 Hold the {Home|home button} button for 10 seconds to put the remote back into pairing.
3 Stand within {3 m|close} of the TV with nothing between the remote and the stick.
4 Unplug the stick's power for 60 seconds to {restart|unplug} it, then pair the remote again.
5 Use the phone {app|remote app} as a remote to reach Settings > Remotes if the remote still will not pair.

== buffering k4 faq
T Video keeps buffering or drops to low quality
C weak Wi-Fi behind the TV; other devices using the bandwidth; 2.4 GHz congestion
S {dev} keeps buffering; videos on {dev} stop to load every few minutes; {dev} streams in blurry quality
1 Run the {network test|speed test} under Settings > Network: 4K needs about 25 Mbps.
2 Connect to the router's {5 GHz|5ghz} network if it is in range.
3 Fit the {HDMI extender|extender} so the stick hangs away from the back of the TV.
4 {Restart|reboot} the router and the stick.
5 Pause large {downloads} or backups on other devices while streaming.

== no_4k_hdr k4 guide
T No 4K or HDR picture
C the TV's HDMI port lacks HDCP 2.2; the TV's enhanced HDMI format is off; content not in 4K
S {dev} won't play 4k; {dev} has no hdr; {dev} is stuck at 1080p
1 Plug into a TV {HDMI port|port} marked 4K, HDCP 2.2 or ARC/eARC (often HDMI 1 or 2).
2 Turn on the TV's {enhanced|deep colour|uhd colour} HDMI signal format for that port.
3 Set {display resolution|resolution} to Auto in the stick's settings.
4 Check the show is actually {4K|hdr|dolby vision} in the app's info panel.

== no_sound_or_dolby k4 faq
T No sound, or Dolby audio missing
C stick outputs Dolby that the TV or soundbar cannot decode; TV muted
S {dev} has no sound; the sound on {dev} is gone but the picture is fine; dolby doesn't work with {dev}
1 Set the {audio output|audio} format to Stereo in the stick's settings to test.
2 Check the {TV volume|volume} and mute on the TV itself.
3 If using a soundbar, enable {passthrough} or switch the format to Auto.
4 {Restart|reboot} the stick and TV.

== overheating_burning_smell hd forum safety
T Streaming stick very hot or smelling of burning
C airflow blocked behind the TV; failing power adapter
S {dev} is too hot to touch; {dev} smells burnt; the adapter for {dev} has melted
1 {Unplug|disconnect} the stick's power adapter from the wall before touching the stick.
2 {Stop using|stop} the stick and that adapter.
3 Let the stick {cool|cooled} on a non-flammable surface, away from curtains.
4 {Contact support|support|manufacturer} for a replacement.
E heat damage, smell, melting
U wrap it in foil; keep using it; put it in the freezer to cool

== reboots_randomly hd faq
T Stick restarts by itself
C powered from the TV's USB port, which gives too little current; a faulty cable
S {dev} restarts by itself; {dev} reboots in the middle of a show; {dev} keeps crashing to the logo
1 Power the stick from the {wall adapter|adapter} supplied, not the TV's USB port.
2 Use the supplied {USB cable|cable}: thin cables drop voltage.
3 Install the latest {software update|software|update}.
4 If it continues, {reset|factory reset} it from Settings > System.

== remote_volume_not_working k4 faq
T Remote volume does not control the TV
C equipment control not set up; TV does not accept HDMI-CEC volume
S the volume buttons on {dev} remote don't work; {dev} remote can't mute the tv; {dev} remote won't change the volume
1 Open Settings > {Equipment control|equipment} and run the TV setup.
2 Select your {TV brand|brand} so the remote uses the right infrared codes.
3 Turn on {HDMI-CEC|cec} in the TV menu.
4 {Restart|reboot} the stick and test volume.

== app_crashes k4 faq
T Apps crash or freeze
C corrupt cache; low storage; outdated app
S apps on {dev} crash; the video app on {dev} keeps closing; one app on {dev} won't open
1 Open Settings > Applications and {clear cache|cache} for the app.
2 {Update|update the app} the app from the store.
3 Free {storage} by removing apps you don't use.
4 {Uninstall|reinstall} and reinstall the app if it still crashes.

== storage_full hd faq
T Storage full warning
C too many apps; large caches
S {dev} says storage full; {dev} can't install any more apps; {dev} has no space left
1 Uninstall {unused apps|apps} from Settings > Applications.
2 {Clear cache|cache} for the largest apps.
3 Check {storage} in Settings > About to see what is using space.
4 {Restart|reboot} the stick after freeing space.

== cant_connect_wifi hd faq
T Stick cannot join the Wi-Fi network
C the HD model only supports 2.4 GHz; wrong password; captive portal networks
S {dev} won't join my wifi; {dev} says wrong password; the hotel wifi doesn't work on {dev}
1 Choose the {2.4 GHz|2.4ghz} network: the HD stick cannot see 5 GHz.
2 Re-enter the {password} carefully (it is case-sensitive).
3 Avoid {captive portal|hotel|login page} networks that need a browser login.
4 {Restart|reboot} the router and stick.

== screen_mirroring_fails k4 faq
T Screen mirroring from a phone fails
C phone and stick on different networks; VPN; mirroring off
S mirroring my phone to {dev} fails; my phone can't find {dev}; {dev} won't mirror
1 Put the phone and stick on the {same network|same wi-fi}.
2 Turn off any {VPN|vpn} on the phone.
3 Enable {screen mirroring|mirroring} on the stick.
4 {Restart|reboot} the stick and the phone.

== stuck_on_logo hd guide
T Stick stuck on the logo at start-up
C an update interrupted by a power cut; weak power from the TV USB port
S {dev} is stuck on the logo; {dev} won't finish booting; {dev} keeps boot looping
1 Power it from the {wall adapter|adapter} supplied.
2 Unplug it for {30 seconds} and plug it back in.
3 Leave it for {15 minutes} in case it is finishing an update.
4 {Reset|factory reset} by holding Back and Right on the remote for 10 seconds.
E it is still stuck on the logo after a factory reset

== picture_wrong_size hd faq
T Picture cut off at the edges or too small
C TV overscan; wrong display calibration
S the picture on {dev} is cut off; the edges are missing on {dev}; {dev} screen looks too small
1 Set the TV picture size to {Just Scan|screen fit|fit to screen} or similar.
2 Run {display calibration|calibration} in the stick's settings.
3 Set the {resolution} to Auto.
4 {Restart|reboot} the stick.

== hdmi_cec_turns_tv_on k4 faq
T TV turns on by itself
C HDMI-CEC wake from the stick
S {dev} turns my tv on by itself; the tv switches on when {dev} updates; {dev} keeps waking the tv
1 Turn off {HDMI-CEC|cec} device control on the stick.
2 Or disable CEC in the {TV settings|tv menu} menu.
3 Check for {scheduled|schedule} updates overnight.
4 {Restart|reboot} the stick after the change.

== lip_sync k4 faq
T Sound out of sync with the picture
C TV processing; soundbar delay
S the sound on {dev} is out of sync; lips don't match the voices on {dev}; {dev} has an audio delay
1 Use the {AV sync|av sync} setting on the stick.
2 Turn on {game mode|game} on the TV.
3 Set the audio to {Stereo|stereo} to test.
4 {Update|software} the stick.

== voice_remote_mic k4 faq
T Voice search does not hear me
C the voice button released too early; flat batteries; remote not paired
S voice search on {dev} doesn't work; the mic on the remote for {dev} is dead; {dev} doesn't hear what I say
1 Fit fresh {batteries|battery}.
2 Hold the {voice button|mic button} for the whole phrase.
3 {Re-pair|pair} the remote from Settings > Remotes.
4 {Restart|reboot} the stick.

== update_fails hd faq
T System update fails
C low storage; interrupted download
S {dev} update fails; {dev} shows an update error; {dev} can't update
1 Free {storage} space.
2 Check the {internet|network} connection.
3 {Restart|reboot} the stick.
4 {Retry|try again} the update.

== parental_pin_forgotten k4 faq
T Forgotten parental-control PIN
C PIN set long ago
S I forgot the pin on {dev}; {dev} asks for a parental pin I don't know; {dev} locked me out of purchases
1 Sign in to your {account} on the website.
2 Reset the {PIN} under parental controls.
3 {Restart|reboot} the stick.
4 Enter the new {PIN} on the stick.

== wifi_weak_behind_tv hd faq
T Weak Wi-Fi signal behind the TV
C the TV's metal back blocks the antenna
S {dev} has weak wifi; {dev} signal is low; the wifi on {dev} is bad behind the tv
1 Fit the {HDMI extender|extender}.
2 Move the {router} closer.
3 Use the {2.4 GHz|2.4ghz} band.
4 Add a {mesh|extender} node.

"""
