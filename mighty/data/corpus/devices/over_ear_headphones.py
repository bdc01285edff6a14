"""Bluetooth over-ear and on-ear headphones. Original text written for Mighty."""

DEVICE = "over_ear_headphones"
NOUNS = ["my headphones", "my {short} headphones", "my over-ear headphones", "my wireless headphones",
         "the {short}s", "my bluetooth headphones"]
FAMILIES = {
    "pro700": ("AcoustiQ Pro 700-series over-ear", "AcoustiQ Pro 700"),
    "lite300": ("AcoustiQ Lite 300-series on-ear", "AcoustiQ Lite 300"),
    "studio500": ("Vireo Studio 500 wireless over-ear", "Vireo Studio 500"),
}
UNSAFE = ["puncture the battery", "pry the ear cup open", "heat the battery"]
ESCALATION = ["the fault is still there after a factory reset and a firmware update",
              "the headphones show physical damage such as a cracked hinge or a loose ear cup"]

ISSUES = """
== wont_pair pro700 manual
T Pro 700 headphones do not show up in the phone's Bluetooth list
C still connected to a previously paired phone or laptop; pairing mode was not entered or timed out; stale pairing record on the phone
S {dev} don't show up when I search for Bluetooth devices; can't get {dev} to pair with my new phone; {dev} never appear in the Bluetooth menu
1 Turn off Bluetooth on any phone, tablet or laptop the headphones were used with before, so they are free to {pair|pairing}.
2 With the headphones switched off, press and hold the power button for about 7 seconds until the LED flashes blue and red: that is {pairing mode}.
3 On the phone open Settings > Bluetooth, {forget|remove|unpair} any old "Pro 700" entry, then scan again.
4 Select the headphones within 3 minutes, before pairing mode times out, and accept any {pairing request|confirm|prompt} on the phone.
5 If they still do not appear, {reset|factory reset} them by holding power and volume down together for 10 seconds, then repeat steps 2 to 4.

== wont_pair lite300 faq
T Lite 300 on-ear headphones will not enter pairing mode
C pairing mode on this model needs a long press from the off state; battery too low for the radio; pairing list of 8 devices is full
S {dev} won't go into pairing mode; {dev} just turn on and off instead of pairing; the light on {dev} never flashes for pairing
1 {Charge|charging} the headphones for at least 15 minutes first: below about 5 % the radio will not start pairing.
2 Switch them off, then hold the multifunction button for 5 seconds, past the power-on tone, until the LED {flashes|blinking|flash} red and white.
3 If they only power on and off, {clear the pairing list|clear|pairing list} by holding the multifunction and volume up buttons for 8 seconds while on: the list holds 8 devices.
4 On the phone {forget|remove} the old entry and select "Lite 300" from the new scan.

== one_side_silent pro700 guide
T Sound only comes from one ear cup
C balance slider moved in the phone's accessibility settings; mono audio enabled; stereo track actually mono-mixed; a firmware glitch after an interrupted update
S only the left side of {dev} plays anything; the right ear cup on {dev} is silent; {dev} only play sound in one ear
1 Open the phone's accessibility audio settings and centre the left/right {balance} slider.
2 Turn off {mono audio|mono} in the same menu, and test with a known stereo track.
3 Try a different source device: if both sides work there, the problem is the phone's {settings|setting} or app EQ.
4 Power the headphones off and on, then {reset|factory reset} them (power + volume down for 10 s) and pair again.
5 Check the companion app for a {firmware|update} and install it with both ear cups on the headband.
E one ear cup stays silent on every source after a reset; the silent side crackles or cuts in when the headband is flexed

== anc_not_working pro700 manual
T Noise cancelling seems weak or makes no difference
C transparency/ambient mode active instead of ANC; poor cushion seal from glasses or hair; ANC level turned down in the app; worn ear cushions
S the noise cancelling on {dev} barely does anything; I can still hear everything with ANC on {dev}; {dev} don't block the train noise anymore
1 Press the ANC button and listen for the voice prompt: make sure it says {noise cancelling|ANC} on, not ambient or transparency.
2 In the companion app, set the {noise cancelling level|level|slider} to maximum and turn off adaptive or wind modes to compare.
3 Check the {seal|fit}: glasses arms, hair or a hat under the cushions let low-frequency noise in.
4 Inspect the {ear cushions|cushions|cushion} for flattening or tears and replace them if they are worn.
5 Keep in mind that ANC is strongest on steady low rumble (engines, fans) and {weaker|voices|less effective} on voices and sudden sounds.

== anc_whistling pro700 forum
T High-pitched whistle or squeal when noise cancelling is on
C the cushion seal is broken so the feedback microphone picks up the speaker; blocked or dirty microphone port; cushion not seated after replacement
S {dev} make a weird whistling noise when ANC is on; there's a squeal in {dev} whenever I press on the ear cup; high pitched feedback from {dev} with noise cancelling
1 Reseat the headphones so both {cushions|cushion} seal fully around your ears: the whistle is acoustic feedback from a leak.
2 If the cushions were replaced, check they are {clicked in|seated|snapped} all the way round the ear cup.
3 Gently brush the small {microphone port|mic port|mesh} on the outside of each cup with a dry soft brush.
4 Switch ANC off and on, then {update|firmware} the headphones in the app: feedback tuning is refined in updates.
E the squeal continues with a good seal on a freshly reset set

== connection_drops pro700 guide
T Bluetooth audio cuts out or stutters
C distance or body blocking the signal; 2.4 GHz interference from Wi-Fi or microwaves; high-bitrate codec at the edge of range; multipoint connection to two devices
S {dev} keep cutting out when my phone is in my back pocket; the sound on {dev} stutters every few seconds; {dev} drop the connection constantly
1 Keep the phone within about 10 m and on the {same side|line of sight|close}: a phone in a back pocket is blocked by your body.
2 Move away from {interference|wi-fi|microwave} sources such as microwaves, busy Wi-Fi access points or USB 3 hubs.
3 In the app or phone developer options, switch the {codec|aac|sbc} from the high-quality mode to AAC or SBC, which hold the link better.
4 If {multipoint} is on, disconnect the second device and test with one connection.
5 {Forget|unpair} the headphones on the phone, reset them and pair again.

== audio_lag_video studio500 faq
T Sound is behind the picture when watching videos
C Bluetooth codec latency; the video app not compensating; laptop using a generic Bluetooth driver
S the audio on {dev} is out of sync with videos; voices on {dev} are a second behind the lips; games have a delay with {dev}
1 Enable {low latency|low-latency|game mode} mode in the Vireo app.
2 Use apps that compensate for Bluetooth delay, or adjust the {audio delay|sync|offset} setting in the player.
3 On a laptop, update the {Bluetooth driver|driver} from the laptop maker rather than using the generic one.
4 For gaming or editing, plug in the {USB-C cable|usb-c|wired} to use the Studio 500 as a wired USB audio device with no radio delay.

== mic_muffled_calls pro700 faq
T People say my voice sounds muffled or distant on calls
C phone using its own microphone instead of the headset; wind noise suppression; hands-free profile bandwidth; the mic openings covered by hair or a hat
S people on calls say I sound muffled with {dev}; my voice is quiet and far away on calls with {dev}; {dev} make me sound like I'm in a tunnel
1 During a call, open the audio output menu and make sure the {headphones|headset} are selected for both speaker and microphone.
2 Keep the {microphone openings|microphone|mic} on the lower front edge of the right cup uncovered by hair, collars or hats.
3 Turn on {wind reduction|wind} in the app when outdoors.
4 On a laptop, choose the headphones as the {input device|input|microphone} in the call app as well as in the system sound settings.
5 Install the latest {firmware|update}, which improves call voice pickup.

== poor_audio_quality_on_pc studio500 guide
T Music sounds tinny or like a phone call on a Windows PC
C Windows switched to the Hands-Free (HFP) profile because an app opened the headset microphone; the call app keeps the mic open
S {dev} sound like an old telephone on my laptop; audio on {dev} goes tinny as soon as I join a meeting; music on {dev} is low quality on my PC
1 Open Sound settings and set the output to the {Stereo|headphones stereo} entry, not "Headset" or "Hands-Free".
2 In your call or game app, set the microphone to the {laptop microphone|laptop mic|built-in} if you want full quality music while the app runs.
3 Close apps that keep the {microphone|mic} open in the background, then reconnect the headphones.
4 Understand that Bluetooth {hands-free|hfp|headset mode} mode is lower quality by design while the mic is active.
5 Use the {USB-C cable|usb-c|wired} for meetings when you need both full-quality sound and the built-in mic.

== wont_charge lite300 manual
T Headphones do not charge or the charging light stays off
C damaged or charge-only cable; lint in the USB-C port; battery deeply discharged after months in storage; charger supplies too little current
S {dev} won't charge at all; the light on {dev} doesn't come on when I plug them in; {dev} stay dead even after charging overnight
1 Try a different {cable|usb-c cable} and a known-good 5 V USB charger or computer port.
2 Shine a light into the {USB-C port|port} and remove lint gently with a wooden toothpick.
3 Leave the headphones connected for at least {30 minutes}: a deeply discharged battery can take a while before the LED comes on.
4 While connected, press the multifunction button for 10 seconds to {reset|restart} the charging controller.
E there is still no charging light after 30 minutes on two different cables; the port is loose or damaged
U use a metal pin to clean the port

== battery_drain pro700 faq
T Battery runs down much faster than the rated 30 hours
C ANC and high-bitrate codec on all the time; auto-off disabled; staying connected to a laptop in standby; old firmware with a standby drain bug
S {dev} battery dies in a few hours; {dev} lose charge even when I'm not using them; the battery on {dev} barely lasts a day now
1 In the app, enable {auto-off|auto off|power off} after 20 minutes of inactivity.
2 Check the {codec|ldac|aac}: the high-quality codec uses noticeably more power than AAC.
3 Turn {ANC|noise cancelling} off when you do not need it and compare the drain.
4 {Disconnect|disconnect} from laptops and tablets that keep the link alive in the bag.
5 Update the {firmware|update} through the app.
E runtime stays under half the rating after these steps; the battery level jumps or drops suddenly

== wont_turn_on lite300 guide
T Headphones do not power on
C battery flat; firmware lock-up; faulty power button
S {dev} won't turn on; nothing happens when I press the power button on {dev}; {dev} are completely dead
1 {Charge|charging} for at least 30 minutes with a known-good cable and check the charging LED comes on.
2 With the cable still connected, hold the {multifunction button} for 10 seconds to force a restart.
3 Disconnect the cable and {press and hold|hold} the button for 3 seconds from off.
4 If they power on but shut off immediately, {reset|factory reset} them and then update the firmware.
E no charging LED and no response after 30 minutes on charge

== swollen_battery pro700 manual safety
T Ear cup bulging or cushion pushed out by a swollen battery
C lithium-ion cell swelling from age, heat or damage
S one ear cup on {dev} is bulging and the cushion won't sit flat; {dev} ear cup looks puffed up and cracked; the battery in {dev} seems swollen
1 {Stop using|stop} the headphones immediately and do not wear or charge them.
2 {Unplug|disconnect} any charging cable and place them on a non-flammable surface away from heat and anything that burns.
3 Do not press on, open or try to flatten the ear cup: a damaged {lithium|battery} cell can catch fire.
4 {Contact support|support|manufacturer} for a replacement and ask about safe recycling of the battery.
E any swelling, cracking or hissing from the ear cup; a chemical or sweet smell
U keep using them until the battery dies; press the ear cup back into shape; puncture the battery to let the gas out; cut the ear cup open

== overheating_while_charging lite300 faq safety
T Headphones get very hot or smell of burning while charging
C damaged cable or charger; failing battery; liquid in the port
S {dev} get really hot when charging; there's a burning smell from {dev} on the charger; {dev} were too hot to touch after charging
1 {Unplug|disconnect} the charger immediately if it is safe to touch the plug.
2 {Stop using|stop} the headphones and do not charge them again.
3 Let them cool on a hard, non-flammable surface away from bedding and furniture and keep an eye on them for {smoke|fire}.
4 {Contact support|support|manufacturer}: overheating while charging is a battery or circuit fault and needs a repair or replacement.
E the headphones are hot, smell of burning or show melted plastic
U keep charging them overnight; put them in the fridge to cool down; pour water on the charging port

== touch_controls_unresponsive pro700 guide
T Touch panel on the ear cup ignores taps and swipes
C touch controls disabled in the app; wet or greasy panel; wearing gloves; firmware glitch
S the touch controls on {dev} stopped working; swiping on {dev} doesn't change the volume anymore; {dev} ignore my taps
1 In the app, check that {touch controls|touch} are enabled and not locked.
2 Wipe the {touch panel|panel} on the right ear cup with a dry microfibre cloth.
3 Remove {gloves|glove} and use a bare fingertip with a deliberate swipe.
4 Turn the headphones off and on, then {update|firmware} them.
5 If still unresponsive, {reset|factory reset} them and pair again.

== auto_pause_not_working pro700 faq
T Music does not pause when the headphones are taken off
C wear detection switched off; proximity sensor inside the cup dirty; the playing app ignores pause commands
S {dev} don't pause when I take them off; music keeps playing after I take {dev} off my head; the auto pause on {dev} stopped working
1 In the app, turn on {wear detection|auto-pause|auto pause}.
2 Clean the {sensor} window inside the left ear cup with a dry cotton swab.
3 Test with a different {app|player}: some players ignore pause commands.
4 {Restart|power cycle} the headphones and reconnect.

== usb_audio_not_detected studio500 guide
T Computer does not detect the headphones over USB-C audio
C charge-only cable; USB audio mode off; hub or adapter does not pass audio
S my laptop doesn't see {dev} when I plug in the usb cable; {dev} only charge over usb and don't play sound; {dev} don't show up as an audio device on my pc
1 Use the supplied cable or another {data cable|data|usb-c cable}: charge-only cables carry no audio.
2 Switch the headphones on and set {USB audio|usb audio} in the app.
3 Plug {directly|direct} into the computer, not through a hub or monitor port.
4 In the computer's {sound settings|sound|output}, choose "Studio 500 USB" as output and input.
5 Update the headphone {firmware|update} and restart the computer.

== crackling_static studio500 forum
T Crackling or static in the audio
C low battery; radio interference; a damaged source file or app; dust on the USB-C contacts when used wired
S {dev} crackle and pop during music; there's static in {dev}; I hear random clicks in {dev}
1 {Charge|charging} the headphones: a low battery often causes crackle.
2 Test with a different {source|phone|device} and a different app.
3 Move away from {interference|wi-fi|router} and disable other Bluetooth devices nearby.
4 When wired, try a different {cable|usb-c cable} and clean the port.
5 {Reset|factory reset} the headphones and update the firmware.

== app_wont_find_headphones pro700 faq
T The companion app cannot find the headphones
C location or nearby-devices permission denied; headphones connected only for audio; app out of date
S the app can't find {dev} even though they're connected; {dev} play music but the app says no device; the companion app never detects {dev}
1 Grant the app the {Bluetooth|nearby devices|location} permission in the phone settings.
2 {Update|update the app} the companion app from the store.
3 Close the app completely and {reopen|restart} it with the headphones connected.
4 {Forget|unpair} the headphones in Bluetooth settings and add them from inside the app instead.

== firmware_update_fails pro700 guide
T Firmware update stops or fails part way
C battery below 50 %; phone battery saver closing the app; the phone moved out of range
S the update on {dev} keeps failing; {dev} firmware update gets stuck at 40 percent; the app says update failed for {dev}
1 {Charge|charging} the headphones above 50 % and keep them on the cable.
2 Turn off the phone's {battery saver|power saving} and keep the app open on screen.
3 Keep the phone within {1 m|close|near} of the headphones and do not play music during the update.
4 {Restart|power cycle} both phone and headphones and try the update again.
E the headphones no longer power on after a failed update

== multipoint_switching pro700 faq
T Headphones will not switch between laptop and phone
C multipoint disabled; both devices trying to play at once; one device set to keep the audio
S {dev} stay stuck on my laptop when a call comes to my phone; switching {dev} between phone and computer doesn't work; {dev} won't connect to two things at once
1 Turn on {multipoint} in the app.
2 Pair each device separately, then {connect|reconnect} the second one from its Bluetooth menu.
3 {Pause|stop playback} audio on the first device before playing on the second: the headphones follow the active stream.
4 Remove old entries so no more than {two devices|two} are connected at once.
"""
