"""Portable and party Bluetooth speakers. Original text written for Mighty."""

DEVICE = "bluetooth_speaker"
NOUNS = ["my speaker", "my {short}", "my bluetooth speaker", "the speaker", "my portable speaker"]
FAMILIES = {
    "mini": ("BoomCube Mini portable speaker", "BoomCube Mini"),
    "max": ("BoomCube Max IP67 outdoor speaker", "BoomCube Max"),
    "tower": ("PartyTower 1000 party speaker", "PartyTower 1000"),
}
UNSAFE = ["puncture the battery", "charge it while the port is wet", "open the speaker grille to reach the battery"]
ESCALATION = ["the fault remains after a factory reset and firmware update",
              "the speaker was dropped and rattles or the casing is cracked"]

ISSUES = """
== wont_pair mini manual
T BoomCube Mini does not show up for pairing
C already connected to another phone; pairing mode not active; old pairing record
S {dev} doesn't show up in my bluetooth list; can't pair {dev} with my new phone; {dev} won't connect to my laptop
1 Turn on the speaker and press the {Bluetooth button|bluetooth button} once: the light should blink blue quickly for pairing.
2 If it blinks slowly, it is trying to {reconnect|reconnecting} to the last phone: turn Bluetooth off on that phone.
3 On your phone, {forget|remove} old "BoomCube Mini" entries and scan again.
4 Hold Bluetooth and volume up for 10 seconds to {reset|factory reset} if it still does not appear.

== wont_pair tower manual
T PartyTower 1000 will not pair over Bluetooth
C source set to AUX, USB or TWS instead of Bluetooth; pairing list full
S {dev} won't pair with my phone; my phone can't find {dev}; {dev} doesn't appear in Bluetooth
1 Press the {Source|source} button until the display shows BT.
2 Hold the {Pairing|pair} button for 3 seconds until "PAIR" flashes.
3 {Forget|remove} the speaker on the phone, then select "PartyTower 1000".
4 {Clear|reset} the pairing list by holding Pairing and Play for 8 seconds, then retry.

== no_sound_connected mini faq
T Connected but no sound
C media volume at zero; output routed elsewhere; phone audio still playing to another device
S {dev} says connected but plays nothing; no sound from {dev} even though it's paired; {dev} is silent
1 Raise both the phone's {media volume|volume} and the speaker volume.
2 In the media {output|audio output} menu, select the speaker.
3 Disconnect other {Bluetooth devices|bluetooth} such as earbuds or the car.
4 {Forget|unpair} and pair again.

== distorted_at_high_volume max guide
T Sound distorts at high volume
C bass boost EQ on phone plus speaker; low battery; source clipping
S {dev} sounds distorted when loud; bass on {dev} rattles and crackles; {dev} buzzes at high volume
1 Turn off {bass boost|eq|equaliser} on the phone and in the speaker app.
2 Set the phone volume to about {80 %|80 percent} and control loudness on the speaker.
3 {Charge|charging} the speaker: low battery limits peak power.
4 Check the {grille|passive radiator} for sand or debris and rinse gently with fresh water (port covers closed).

== connection_drops max faq
T Outdoor speaker cuts out
C distance; obstacles; water on the phone
S {dev} cuts out outside; sound on {dev} keeps dropping; {dev} disconnects at the pool
1 Keep the phone within {10 m|10 metres|range} and in line of sight.
2 Avoid placing the speaker behind {walls|obstacles} or in water between you.
3 Disconnect {other devices|other} connected to the speaker.
4 {Update|firmware} the speaker.

== wont_charge max manual
T Max does not charge
C wet port triggers protection; cable; charger too weak
S {dev} won't charge; {dev} charging light doesn't come on; {dev} is stuck at low battery
1 Make sure the {port|usb-c port} is completely dry before connecting.
2 Use a {charger|5 v} of at least 5 V 2 A and the supplied cable.
3 Clear lint from the port with a {wooden toothpick|toothpick}.
4 Leave on charge for {30 minutes} and check the light.
E no charging after 30 minutes with a dry port

== wont_turn_on mini faq
T Mini will not turn on
C empty battery; firmware lock-up
S {dev} won't turn on; {dev} is dead; {dev} power button does nothing
1 {Charge|charging} for 30 minutes.
2 Hold the {power button|power} for 10 seconds to force a restart.
3 Try another {cable|charger}.
4 {Reset|factory reset} once it powers on.

== battery_drain max guide
T Battery runs out quickly
C high volume; party lighting; auto-off disabled
S {dev} battery dies quickly; {dev} doesn't last like it used to; {dev} loses charge overnight
1 Turn off {lights|light show|lighting} in the app.
2 Enable {auto-off|auto off}.
3 Lower the {volume}: the last steps use much more power.
4 {Update|firmware} the speaker.

== stereo_pair_fails max guide
T Two speakers will not form a stereo pair
C firmware mismatch; one speaker connected to a phone; too far apart
S I can't stereo pair two {dev}; {dev} won't link with my other one; stereo mode on {dev} fails
1 {Update|firmware} both speakers to the same firmware.
2 Disconnect the {phone|source} from the second speaker.
3 Place them within {2 m|close} during pairing.
4 Press the {stereo|link} button on the first speaker, then the second.

== party_mode_link_fails tower faq
T Party mode link fails
C different models; not in party mode
S {dev} won't link for party mode; party chain on {dev} breaks; {dev} doesn't join party mode
1 Check both are {compatible|same|supported} models.
2 Press {Party|party mode} on the main speaker.
3 Press {Party|party mode} on the second within 30 s.
4 {Reset|factory reset} if it fails.

== water_in_port_charging max forum safety
T Speaker warns of moisture or gets hot while charging wet
C water in the USB-C port; corrosion
S {dev} shows a water warning when charging; {dev} got hot charging after the pool; {dev} smells burnt after charging wet
1 {Unplug|disconnect} the cable immediately.
2 {Stop charging|stop} until the port is fully dry.
3 Let the port {dry|air dry} for several hours with the cover open.
4 {Contact support|support} if there is heat, smell or corrosion.
E heat, smoke or a burning smell; corrosion on the port
U dry the port with a hair dryer on hot; charge it anyway; blow into the port and plug it in

== swollen_battery mini manual safety
T Casing bulging or split
C swollen lithium-ion battery
S {dev} case is bulging; {dev} split open; {dev} looks puffed up
1 {Stop using|stop} the speaker immediately.
2 {Unplug|disconnect} any cable and move it to a non-flammable surface.
3 Do not press or open the {case|battery}.
4 {Contact support|support|manufacturer} for a replacement and safe disposal.
E any swelling, heat or hissing
U press it flat; puncture the battery; keep using it on mains power

== buzzing_when_idle tower faq
T Hum or buzz from the speaker when nothing is playing
C ground loop through an AUX cable while the source device charges; unshielded cable near mains leads; TV or PC audio output noise
S {dev} buzzes when nothing is playing; {dev} hums as soon as I plug in the aux cable; {dev} hisses between songs
1 Unplug the {AUX|aux cable} cable and listen: if the hum stops, the noise comes in through the cable.
2 Disconnect the {charger|charging} from the phone or laptop feeding the AUX input: charging while connected creates a ground loop.
3 If you must use AUX while charging, fit a {ground loop isolator|isolator} between the cable and the speaker.
4 Otherwise play over {Bluetooth|bluetooth}, which has no electrical connection to the source.

== aux_no_sound tower guide
T No sound from the AUX input
C the source is still set to Bluetooth or USB; a headset (4-pole) cable; source volume at zero
S {dev} makes no sound on aux; the aux input on {dev} doesn't work; {dev} ignores the cable from my laptop
1 Press the {Source|source} button until the display shows AUX.
2 Use a plain stereo {3-pole|trs|stereo} 3.5 mm cable: a 4-pole headset cable can short the signal.
3 Raise the {volume} on the source device as well as on the speaker.
4 Swap in a {different cable|cable} to rule out a broken one.

== auto_power_off mini faq
T Speaker keeps turning itself off
C auto-off after 15 minutes of silence; a quiet passage counted as silence; low battery shutdown
S {dev} keeps switching off by itself; {dev} turns off in the middle of a podcast; {dev} shuts down when I pause for a while
1 In the app, set the {auto-off|auto off} timer to a longer delay or turn it off.
2 {Charge|charging} the speaker: it shuts down early to protect a low battery.
3 Install any {firmware|update} offered in the app.
4 If it still shuts off while playing, {reset|factory reset} it by holding power and volume down for 10 seconds.

== low_volume mini faq
T Speaker is much quieter than expected
C phone volume limit for Bluetooth; absolute volume out of sync between phone and speaker; low-power mode
S {dev} is really quiet even at max; {dev} won't get loud anymore; the volume on {dev} is too low
1 Turn up both the phone's {volume} and the speaker's own volume buttons: they are separate levels.
2 Turn off any {volume limit|limit} or "reduce loud audio" setting on the phone.
3 On Android, toggle "disable {absolute volume|absolute}" in developer options, then reconnect.
4 {Charge|charging} the speaker: battery saver lowers maximum volume.

== audio_delay tower faq
T Sound lags behind the picture when playing video
C Bluetooth latency of 150-250 ms; the video app not compensating; TV Bluetooth output adding delay
S the sound from {dev} lags behind my tv; {dev} is out of sync with videos; voices on {dev} come after the lips move
1 For TV and video, connect with the {AUX|aux cable} input, which has almost no delay.
2 Use the player's or TV's {audio delay|delay|sync} setting to shift the sound.
3 Turn off {party mode|party} linking while watching video: each linked speaker adds delay.
4 Restart the source's {Bluetooth|bluetooth} and reconnect so it renegotiates the codec.

== speakerphone_echo mini guide
T Callers hear an echo when I take calls on the speaker
C volume too high so the mic picks up the speaker; hard walls reflecting sound; echo cancelling reset after an update
S people hear an echo when I use {dev} for calls; calls on {dev} echo; {dev} speakerphone makes callers hear themselves
1 Lower the call {volume} on the speaker to around half.
2 Place the speaker {away from walls|away} and hard surfaces and face the mic toward you.
3 Keep within about 1 m so your voice is much {louder|closer} than the speaker at the mic.
4 If the echo continues, take the call on the {phone|handset} and update the speaker firmware.

== app_cant_find max faq
T The speaker app cannot find the speaker
C app lacks Bluetooth or location permission; speaker connected to another phone; outdated app
S the app can't find {dev}; {dev} plays music but the app says no speaker found; the app never sees {dev}
1 Allow the app {Bluetooth|location|nearby devices} permission in the phone settings.
2 {Update|update the app} the app from the store.
3 Disconnect the speaker from any {other phone|other device|other}, then open the app with the speaker on.
4 {Forget|unpair} the speaker in Bluetooth settings and add it again from inside the app.

== firmware_update_fails tower guide
T Speaker firmware update fails or stalls
C battery under 50 %; the app was closed or the phone slept; weak connection during transfer
S the update on {dev} keeps failing; {dev} firmware update stuck at 60 percent; the app says update error for {dev}
1 Connect the speaker to {mains power|power|charging} before starting.
2 Keep the phone {close|near} with the app on screen and the phone screen timeout extended.
3 {Restart|power cycle} both the phone and the speaker and start the update again.
4 Download the update over {Wi-Fi|wifi} on the phone so the file is complete before transfer.
E the speaker no longer powers on after a failed update

== usb_playback_not_working tower faq
T Music on a USB stick does not play
C stick formatted exFAT or NTFS; files in an unsupported format; stick larger than supported
S {dev} won't play my usb stick; usb music doesn't work on {dev}; {dev} shows no file when I plug in a usb drive
1 Format the stick as {FAT32|fat32} on a computer (this erases it, so copy the music off first).
2 Use {MP3|mp3} or WAV files: other formats are skipped.
3 Press the {Source|source} button until the display shows USB.
4 Use a stick of {32 GB|32 gb|smaller} or smaller, which the speaker reads reliably.
"""
