"""TV soundbars with optional subwoofer and rear speakers. Original text written for Mighty."""

DEVICE = "soundbar"
NOUNS = ["my soundbar", "my {short}", "the soundbar", "my tv soundbar", "my {short} soundbar"]
FAMILIES = {
    "bar21": ("CinemaBar 2.1 with wireless subwoofer", "CinemaBar 2.1"),
    "atmos": ("CinemaBar Atmos 5.1.2 with wireless rears", "CinemaBar Atmos"),
    "compact": ("CinemaBar Compact", "CinemaBar Compact"),
}
UNSAFE = ["remove the back panel while it is plugged in", "bypass the fuse", "open the power supply"]
ESCALATION = ["the fault remains after a factory reset and firmware update",
              "the soundbar or subwoofer shows no power light on a known-good socket"]

ISSUES = """
== no_sound_hdmi_arc atmos manual
T No sound from the soundbar over HDMI ARC/eARC
C the cable is in a TV HDMI port without ARC; HDMI-CEC off on the TV; TV audio output still set to TV speakers
S {dev} makes no sound from the tv over hdmi; {dev} is connected by hdmi but silent; tv sound won't come out of {dev}
1 Connect the cable to the TV port labelled {ARC|earc} and to the soundbar's HDMI OUT (TV ARC) port.
2 In the TV menu, turn on {HDMI-CEC|cec} (it may be called Anynet+, SimpLink, Bravia Sync or similar).
3 Set the TV {audio output|sound output|output} to the external receiver / HDMI ARC.
4 Press the soundbar's source button until it shows {TV ARC|arc}.
5 If still silent, unplug both TV and soundbar for 60 seconds and {restart|power cycle} them.
6 Try a certified {High Speed HDMI cable|cable|hdmi cable} with Ethernet.

== no_sound_optical compact guide
T No sound through the optical cable
C protective caps left on the cable ends; TV outputs a format the bar cannot decode; source set wrong
S {dev} is silent on optical; the optical cable doesn't give sound to {dev}; {dev} has no sound from my tv optical
1 Check both cable ends for clear {protective caps|caps} and remove them; the cable should glow red at the free end.
2 Press the source button until the display shows {OPT|optical}.
3 In the TV audio menu, set digital output to {PCM|pcm}.
4 Turn off the {TV speakers|speakers} in the TV menu.

== subwoofer_not_connecting bar21 manual
T Wireless subwoofer does not connect
C pairing lost after a power cut; sub placed too far or behind furniture; sub in standby
S the subwoofer of {dev} doesn't connect; no bass from {dev}, the sub light is red; {dev} subwoofer keeps blinking
1 Check the subwoofer is plugged in and its {LED|light} is on.
2 Move the sub within {10 m|closer|near} of the bar with no metal furniture between.
3 Press the {pair button|pairing button} on the back of the sub for 5 seconds until it blinks.
4 On the bar remote, hold {bass|subwoofer} up for 5 seconds to start pairing from the bar.
5 Wait for the sub light to turn solid {green|solid}.

== wont_pair_bluetooth compact faq
T Compact soundbar does not pair with a phone over Bluetooth
C input not switched to Bluetooth; previous device reconnecting
S {dev} won't show up on my phone bluetooth; can't play spotify from my phone to {dev}; {dev} won't pair
1 Press the {BT|bluetooth} source button on the remote until the display shows BT.
2 Hold the {BT|bluetooth} button for 3 seconds until it blinks: this is pairing mode.
3 Turn Bluetooth off on {other devices|previous} that connected before.
4 {Forget|remove} the old entry on your phone and pair again.

== tv_remote_doesnt_control_volume atmos guide
T TV remote cannot change the soundbar volume
C HDMI-CEC off; soundbar set to a different input; IR learning not set up
S my tv remote won't change the volume on {dev}; I need two remotes for {dev}; volume buttons don't work for {dev}
1 Turn on {HDMI-CEC|cec} on the TV and in the soundbar settings.
2 Make sure the bar is on the {ARC|tv arc} input.
3 If CEC still fails, use the soundbar's {IR learning|learn} mode to teach it the TV remote's volume keys.
4 {Restart|power cycle} the TV and soundbar.

== audio_lip_sync atmos faq
T Sound is out of sync with the picture
C TV picture processing delay; soundbar decoding delay; game mode differences
S the audio on {dev} is ahead of the picture; lips don't match with {dev}; {dev} sound is delayed
1 Turn on the soundbar's {AV sync|av sync|lip sync} adjustment and move it in small steps.
2 On the TV, enable {auto lip sync|lip sync} if it has it.
3 Switch the TV to {game mode|game} to cut picture processing delay when gaming.
4 Update {firmware|update} on both the TV and the soundbar.

== turns_on_off_randomly atmos forum
T Soundbar switches on or off by itself
C HDMI-CEC wake from another device; auto standby after no signal; an old firmware bug
S {dev} turns itself off during films; {dev} keeps waking up in the night; {dev} turns on randomly
1 Disable {auto standby|auto power} in the soundbar's settings to test.
2 Check other HDMI devices (consoles, streamers) for {CEC|hdmi-cec} wake settings.
3 Turn off {Bluetooth standby|network standby|standby} wake if you do not need it.
4 Update the soundbar {firmware|update}.

== no_surround_dolby atmos guide
T No Dolby Atmos or surround effect
C the TV converts to stereo PCM; ARC rather than eARC; streaming app not providing Atmos
S {dev} doesn't show dolby atmos; no surround on {dev}; {dev} sounds like stereo
1 Connect to the TV's {eARC|earc} port and turn on eARC in the TV menu.
2 Set the TV digital output to {Auto|bitstream|passthrough} instead of PCM.
3 Play content that actually has {Atmos|dolby atmos} (check the title's audio info).
4 Check the soundbar's {surround|upmix} mode is on.

== dialogue_hard_to_hear bar21 faq
T Dialogue is hard to hear
C bass too high; dialogue enhancement off; night mode off
S voices are too quiet on {dev}; I can't hear dialogue on {dev}; {dev} music loud but talking quiet
1 Turn on {dialogue enhancement|dialogue|voice} mode.
2 Lower the {subwoofer|bass} level by two or three steps.
3 Use {night mode|night} to compress loud effects late in the evening.
4 Check the TV is not applying its own {surround|virtual} effect on top.

== humming_subwoofer bar21 forum
T Subwoofer hums constantly
C ground loop through cable TV; sub near a power strip; wireless interference
S the sub of {dev} hums all the time; {dev} subwoofer buzzes; low hum from {dev}
1 Plug the sub into a {different socket|socket} away from other chargers and dimmers.
2 Test with the {antenna|coax|cable tv} cable unplugged from the TV.
3 Move the sub away from {Wi-Fi routers|router|wi-fi}.
4 {Re-pair|pair} the sub with the bar.

== optical_crackling compact faq
T Crackling or dropouts over optical
C the TV sends a format the bar cannot decode; bent cable
S {dev} crackles on optical; sound on {dev} drops out; {dev} pops over optical
1 Set the TV digital output to {PCM|pcm}.
2 Check the {cable} for sharp bends and reseat both ends.
3 Try a {different cable|cable}.
4 Update the {firmware|update}.

== remote_not_working compact faq
T Soundbar remote does not respond
C flat battery; blocked IR sensor; the bar's display dim mode
S {dev} remote doesn't work; {dev} ignores the remote; {dev} remote is dead
1 Replace the {battery|batteries}.
2 Remove anything {blocking|blocked} the front sensor.
3 Point the remote {directly|straight} at the bar within 5 m.
4 Use the TV remote via {CEC|hdmi-cec}.

== wifi_setup_fails atmos guide
T Soundbar Wi-Fi setup fails in the app
C phone on a 5 GHz-only network; router isolation; app permissions
S {dev} won't connect to wifi; app setup for {dev} fails; {dev} can't join my network
1 Keep the phone on the {same network|same wi-fi} the bar should join.
2 Allow {location|bluetooth} permission for the setup app.
3 Turn off {client isolation|ap isolation|isolation} on the router.
4 Press the soundbar's {network|wi-fi} button for 5 seconds to restart setup.

== rear_speakers_not_working atmos faq
T Wireless rear speakers stay silent
C rears lost their pairing after a power cut; surround mode off so rears are not used; a rear unplugged or in standby
S the rear speakers of {dev} are silent; {dev} surrounds don't play anything; no sound from the back with {dev}
1 Check each rear speaker is plugged in and its status {light|led} is solid, not blinking.
2 Select a {surround} sound mode: in stereo mode the rears stay quiet.
3 From the soundbar menu, choose "Rear speakers" > {pair|re-pair} and press the pair button on each rear within 60 seconds.
4 Run the {test tone|speaker test} to check each channel plays in turn.

== volume_changes_itself atmos forum
T Volume jumps up and down by itself
C the soundbar's auto volume leveller; the TV's own leveller fighting it; CEC volume sync between TV and bar
S the volume on {dev} changes on its own; {dev} gets loud then quiet during adverts; {dev} keeps adjusting the volume
1 Turn off {auto volume|volume leveller|leveler} in the soundbar sound settings.
2 Turn off the TV's own {auto volume|leveler|avl} as well so the two do not fight.
3 Disable CEC {volume sync|cec} for a day to see whether the TV is sending volume changes.
4 Install the latest soundbar {firmware|update}.

== burning_smell bar21 faq safety
T Burning smell or smoke from the soundbar or subwoofer
C failing power supply; overheating amplifier
S {dev} smells like burning plastic; smoke came out of {dev}; {dev} is really hot and smells
1 {Unplug|disconnect} the soundbar and subwoofer from the wall socket, if it is safe to reach.
2 {Stop using|stop} the unit and keep it off until checked.
3 If there is smoke or flames, leave the room and call the {fire|emergency} services.
4 {Contact support|support|manufacturer} for inspection or replacement.
E any smoke, sparks, melting or burning smell
U keep using it if the smell goes away; open the subwoofer to look; spray water on it while plugged in

== hdmi_passthrough_no_picture atmos guide
T No picture when a device goes through the soundbar's HDMI input
C soundbar in standby blocking passthrough; 4K HDR needs high bandwidth; HDCP handshake
S no picture when my console goes through {dev}; {dev} hdmi in gives a black screen; {dev} passthrough shows no signal
1 Turn on {standby passthrough|passthrough} in the soundbar menu.
2 Use {Ultra High Speed|certified|cable} HDMI cables for 4K 120 Hz.
3 {Power cycle|restart} in order: TV, then soundbar, then source.
4 Connect the source {directly|direct} to the TV to confirm it works.

== sound_cuts_out bar21 faq
T Sound drops out for a moment during quiet scenes
C eco auto-standby treats quiet passages as no signal; a loose HDMI plug; the TV's ARC link renegotiating
S {dev} cuts out for a second in quiet parts; {dev} stops playing then comes back; the audio on {dev} drops randomly
1 Turn off {eco mode|auto standby|eco} in the soundbar menu.
2 Reseat the {HDMI|cable} cable at both ends, or swap it for a certified one.
3 Set the TV digital output to {PCM|pcm} to test whether the dropouts follow the Dolby stream.
4 Update the soundbar {firmware|update}.

== echo_tv_speakers compact faq
T Echo because the TV speakers play along with the soundbar
C TV speakers still enabled; TV output set to "TV speakers + external"
S {dev} and the tv speakers play at the same time; I hear an echo with {dev}; the sound from {dev} is doubled
1 In the TV sound menu, set output to {external speaker|external|audio system} only.
2 Turn off the {TV speakers|speakers} option if the TV has a separate switch.
3 Make sure the bar is on the {optical|arc} input rather than picking up sound from the room.
4 {Restart|power cycle} the TV so the new output setting sticks.

== wont_turn_on bar21 faq
T Soundbar does not turn on
C power cable loose at the back; a power strip switched off; the unit stuck in a standby loop
S {dev} won't turn on; {dev} has no power light; {dev} is dead after the power cut
1 Check the {power cable|power} is firmly in at both ends, including the socket on the bar.
2 Plug straight into a {wall socket|socket} instead of an extension strip.
3 Unplug for {60 seconds} to clear a standby lock-up, then press the power button on the bar itself.
4 If it powers up but misbehaves, {reset|factory reset} it with the button combination in the manual.
E there is no power light on a known-good socket
"""
