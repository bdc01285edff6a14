"""Wired headsets with a microphone (3.5 mm, USB-C, USB-A dongle). Original text written for Mighty."""

DEVICE = "wired_headset"
NOUNS = ["my headset", "my {short} headset", "my wired headset", "the headset", "my gaming headset"]
FAMILIES = {
    "usbc": ("TalkLine USB-C headset", "TalkLine USB-C"),
    "g35": ("TalkLine 3.5 mm gaming headset with boom mic", "TalkLine G35"),
    "dongle": ("OfficeVox USB-A dongle headset", "OfficeVox"),
}
UNSAFE = ["strip the wires and twist them together", "solder the cable while plugged in"]
ESCALATION = ["the fault follows the headset to a second computer or phone",
              "the cable or plug is visibly damaged"]

ISSUES = """
== mic_not_detected g35 faq
T Microphone not detected when plugged into a PC with separate jacks
C the single 4-pole (TRRS) plug carries both mic and audio; a PC with separate pink and green jacks needs a splitter; CTIA vs OMTP pin order
S the mic on {dev} isn't detected on my desktop; my pc only sees the sound of {dev} not the microphone; {dev} mic does nothing when plugged into my computer
1 Check whether the PC has one combo jack or separate {pink and green|pink|green} jacks.
2 For separate jacks, use a {Y-splitter|splitter} (one 4-pole female to two 3-pole male), mic to pink and audio to green.
3 Open sound settings and choose the {microphone|input} input, then speak and watch the level bar.
4 If using an adapter, make sure it is {CTIA|ctia} standard: OMTP adapters swap mic and ground.

== mic_not_working_pc usbc guide
T USB-C headset microphone silent in Windows
C Windows microphone privacy blocks apps; another device set as default input; the mute switch on the cable
S the mic of {dev} doesn't work on windows; my voice doesn't come through {dev}; teams can't hear me with {dev}
1 Check the inline {mute switch|mute} on the cable is not in the red position.
2 Open Settings > Privacy & security > Microphone and allow {microphone access|microphone} for desktop apps.
3 In Sound settings choose the headset as the default {input device|input}.
4 Select the headset in the {app settings|app} (Teams, Zoom or the game) too.
5 Unplug, {restart|reboot} the computer and plug it in again.

== no_sound usbc faq
T No sound from the USB-C headset on a phone
C the phone has no analog audio on USB-C and the adapter is analog only; output routed to speaker; lint in the port
S {dev} plays nothing on my phone; there's no sound in {dev}; {dev} is plugged in but audio still comes out of the phone speaker
1 Make sure the plug is fully {inserted|seated} and the port is free of lint.
2 Check the {output|audio output} in the media controls and pick the headset.
3 Test on a computer: if it works there, the phone may need a {digital|compatible|supported} USB-C audio device.
4 {Restart|reboot} the phone and try again.

== one_side_only g35 guide
T Sound only in one ear
C plug not fully inserted; phone case blocking the jack; mono setting; broken conductor near the plug
S I only hear one side in {dev}; {dev} plays only in the left ear; the right side of {dev} is dead
1 Push the {plug} in fully, removing a thick phone case if needed.
2 Rotate the plug slightly and {wiggle|flex} the cable near it: if sound cuts in and out, the cable is damaged.
3 Check the device's {balance|mono} settings.
4 Test on another {device|computer} to isolate the fault.
E the sound cuts in and out when flexing the cable

== mic_picks_up_background dongle faq
T Others hear keyboard clicks and background noise
C boom mic too far away or turned toward the keyboard; mic gain too high; noise suppression off
S people hear my keyboard through {dev}; {dev} picks up the whole office; too much background noise on calls with {dev}
1 Position the {boom|mic} about two finger-widths from the corner of your mouth.
2 Lower the {input level|gain|mic level} in sound settings to around 70 %.
3 Enable {noise suppression|noise cancellation} in the call app.
4 Make sure the mic's {front|side|marking} faces your mouth.

== buzzing_hum g35 forum
T Buzz or hum in the headset on a desktop
C ground loop; noisy front panel wiring; interference from the graphics card
S {dev} buzzes when plugged into my pc; constant hum in {dev}; {dev} has static from the front panel
1 Plug into the {rear|back} motherboard jacks instead of the front panel.
2 Move the cable away from {power cables|power|cable}.
3 Disable {microphone boost|boost} and "listen to this device".
4 Use a {USB sound card|usb adapter|usb} to bypass noisy onboard audio.

== mic_too_quiet g35 faq
T Microphone level is very low
C mic level low; boost off; boom mic too far
S my mic on {dev} is too quiet; people can barely hear me through {dev}; {dev} mic volume is super low
1 Set the {input level|level|volume} to 100 % in sound settings.
2 Enable {microphone boost|boost} at +10 dB if available.
3 Bring the {boom|mic} closer to your mouth.
4 Check the in-app {input volume|app} and automatic gain settings.

== mute_button_stuck dongle guide
T Headset stuck on mute
C mute toggled on the headset; app mute out of sync; dongle firmware
S {dev} is stuck on mute; the mute light on {dev} stays red; I can't unmute {dev}
1 Press the {mute button|mute} on the headset once and watch the light.
2 Toggle mute in the {app} so both agree.
3 Re-plug the {dongle} into another USB port.
4 Update the {firmware|update} with the vendor tool.

== not_recognised_usb dongle faq
T Computer does not recognise the USB dongle
C faulty port or hub; power-saving suspends the port; driver problem
S my computer doesn't recognize {dev}; {dev} dongle isn't detected; windows says usb device not recognized with {dev}
1 Plug the dongle into a {different port|port} directly on the computer, not a hub.
2 {Restart|reboot} the computer.
3 In Device Manager, uninstall the {driver|device} and rescan.
4 Disable {USB selective suspend|selective suspend|power saving}.

== echo_hearing_self usbc faq
T Hearing my own voice in the headset
C sidetone on; "listen to this device" on
S I can hear myself in {dev}; my own voice echoes in {dev}; {dev} plays my mic back
1 Turn {sidetone} off in the headset software.
2 Untick {listen to this device|listen} in the mic properties.
3 Check the {call app|app} for monitoring options.
4 Re-plug the headset and {restart|reboot}.

== volume_control_not_working usbc forum
T Inline volume buttons do nothing
C the phone or PC ignores headset buttons; absolute volume settings
S volume buttons on {dev} don't work; pressing + on {dev} does nothing; {dev} remote stopped working
1 Try the buttons on another {device|phone|computer}.
2 Update the {operating system|update}.
3 Check {accessibility|settings} for headset button options.
4 {Restart|reboot} the device.

== crackling_when_cable_moves g35 forum
T Crackling when the cable moves
C internal break; damaged plug
S {dev} crackles when I move my head; {dev} cuts out when I touch the cable; the sound on {dev} comes and goes
1 Test on another {device} to rule out the jack.
2 {Flex|wiggle} the cable slowly to find where it cuts out.
3 Clean the {plug} with a dry cloth.
4 Contact {warranty|support|replacement} if the cable is damaged.
E the cable is damaged or cuts out when flexed

== mic_works_in_one_app_only dongle guide
T Microphone works in one app but not another
C app set to another input device; exclusive mode
S {dev} mic works in zoom but not discord; only one app hears {dev}; {dev} mic fails in games
1 In the failing app, choose the {headset|dongle} as the input.
2 Turn off {exclusive mode|exclusive} in the mic properties.
3 Allow {microphone access|access|permission} for the app.
4 {Restart|close} the app after changing settings.

== console_no_chat g35 faq
T No voice chat on a game console
C controller jack volume low; chat mixer set to game; 4-pole plug not fully in
S friends can't hear me on my console with {dev}; {dev} has game sound but no chat; party chat doesn't work with {dev}
1 Push the plug fully into the {controller} jack.
2 Raise the {chat|chat volume} level in the audio settings.
3 Set the {mic monitor|mic level|microphone} on.
4 Check the {mute|mute switch} on the cable.

== sound_robotic_usb usbc faq
T USB headset sound is robotic or choppy
C sample rate mismatch; USB power saving; overloaded hub
S {dev} sounds robotic; audio in {dev} is choppy; {dev} stutters
1 Set the format to {48 kHz|48000 hz} in sound properties.
2 Disable {USB power saving|power saving}.
3 Use a {direct|port} USB port.
4 Update the {audio driver|driver}.

== mac_no_mic g35 guide
T No microphone on a Mac
C Mac not switched to external mic; TRRS adapter
S my mac won't use the mic of {dev}; {dev} mic missing on macos; {dev} works for sound but not mic on my mac
1 Open System Settings > Sound > {Input} and select External Microphone.
2 Allow apps {microphone|privacy} access in Privacy & Security.
3 Use a {CTIA|adapter} adapter if the jack is shared.
4 {Restart|reboot} the app.

== too_loud_at_min usbc faq
T Volume too loud even at minimum
C absolute volume mismatch; digital volume mapping
S {dev} is too loud even at 1; I can't turn {dev} down enough; lowest volume on {dev} is still loud
1 Lower the {app volume|app} as well as system volume.
2 Disable {absolute volume|absolute} if your device offers it.
3 Set a {volume limit|limit} in sound settings.
4 Update the {operating system|update}.

== mic_sounds_distorted dongle faq
T Microphone sounds distorted or clipped
C gain too high; AGC fighting; boom too close
S people say I sound distorted on {dev}; {dev} mic is crackly; my voice breaks up on {dev}
1 Reduce the {input level|gain|level} to 70 %.
2 Turn off automatic {gain|agc} in the call app.
3 Move the {boom|mic} slightly away from your mouth.
4 Update the {firmware|update}.

== hot_dongle_burning_smell dongle forum safety
T USB dongle or headset hot with a burning smell
C short circuit; damaged connector
S {dev} dongle is too hot to touch; there's a burning smell from {dev}; the plug of {dev} melted
1 {Unplug|disconnect} the dongle from the computer right away.
2 {Stop using|stop} the headset and the USB port until checked.
3 Let it cool on a non-flammable surface and do not touch hot {plastic|metal}.
4 {Contact support|support|manufacturer} for a replacement.
E heat, smoke or a burning smell from the dongle
U keep using it; tape over the melted plug; cool it with water

== tinny_sound g35 faq
T Headset sounds thin with no bass
C poor ear cushion seal; EQ off; plug not fully in
S {dev} sounds tinny; {dev} has no bass; music is thin on {dev}
1 Make sure the plug is fully {inserted|pushed in} in the jack, with no phone case in the way.
2 Adjust the headband so the {cushions|seal} seal round your ears.
3 Turn off {spatial|enhancements} effects and reset the EQ.
4 Test on another {device}.
"""
